"""One experiment's results in the shapes DVC displays: the `bioner aggregate` stage (docs/design.md s.4).

Reads the evaluate stage's `eval/<test set>.json` files, the train stage's `config_snapshot.yaml` and, when
the distant stage relabelled, the dictionary labelling's own F1 per test set (`<name>_dict_f1*` in
`distant.json`); writes

- `metrics/metrics.json`: flat, what `dvc exp show` lists. Per applicable test set `<name>` (its key in
  evaluate.test_sets): `<name>_f1` (micro over the types the test set annotates), `<name>_f1_<Type>` per
  annotated type, `<name>_precision`, `<name>_recall`; then `val_f1` (best validation micro F1, the last
  phase's for sequential) and `silver_sentences` (silver sentences trained on); then the details `bioner
  report` reads: `<name>_precision_<Type>`, `<name>_recall_<Type>`, `<name>_support_<Type>` (gold spans) and
  `train_threads` (torch CPU threads the training used), `env_hash` (bioner.training.environment). A
  test set the model cannot be scored on (a 5-tag model on the Virus/Gene PubMed test) contributes no keys:
  `dvc exp show` shows `-`, not a misleading 0.
- `metrics/timings.json`: `train_wall_s` (seconds of training), a timing: outside metrics.json, so that a
  re-run of the same experiment writes a byte-identical metrics.json; `bioner report` reads both.
- `metrics/environment.json`: the environment record (bioner.training.environment.record): packages, threads, CPU/GPU,
  precision, requirements.lock's hash, the data's DVC hashes.
- `metrics/config_snapshot.yaml`: the resolved settings and run summary of the trained model (git-tracked with
  the experiment; the copy in models/ is DVC-cached).
- `plots/scaling_point.json`: this experiment's point of the silver-ratio scaling curve (silver sentences
  used vs test F1s, null where not applicable), a `dvc plots` source: `dvc plots diff` over experiments with
  different `silver.ratio` draws the curve.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from ..io.atomic import write_json, write_yaml
from ..settings.configs import config_name
from ..settings.labels import COLUMNS, TEST_SETS, canonical_test_set, metric_key
from ..settings.strategies import STRATEGIES, Strategy
from ..training.environment import ENV_HASH_KEY, env_hash, record


class RunMetricsError(UserError, RuntimeError):
    """A missing or malformed input of the aggregate stage."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: not found (run the evaluate stage first: dvc repro evaluate)"
        raise RunMetricsError(msg) from None
    except json.JSONDecodeError as err:
        raise RunMetricsError(f"{path}: not valid JSON: {err}") from None


def _read_snapshot(path: Path) -> dict[str, Any]:
    try:
        snap = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunMetricsError(f"{path}: not found (run the train stage first: dvc repro train)") from None
    if not isinstance(snap, dict) or "strategy" not in snap:
        raise RunMetricsError(f"{path}: not a config snapshot written by `bioner train`")
    if snap["strategy"] not in STRATEGIES:
        raise RunMetricsError(f"{path}: unknown strategy {snap['strategy']!r}; allowed: {', '.join(STRATEGIES)}")
    return snap


def _strategy(snapshot: dict[str, Any]) -> Strategy:
    return STRATEGIES[snapshot["strategy"]]


def short_name(test_set: str) -> str:
    """The metric key prefix of a test set: its name ('test_bc5cdr', the older spelling, -> 'bc5cdr')."""
    return canonical_test_set(test_set)


def is_applicable(result: dict[str, Any]) -> bool:
    """False for an evaluation the evaluate stage marked not applicable (model lacks every annotated type)."""
    return bool(result.get("applicable", True))


def flat_metrics(evals: dict[str, dict[str, Any]], snapshot: dict[str, Any]) -> dict[str, float]:
    """The flat metrics.json of one experiment (see the module docstring for the keys).

    Key order is column order in `dvc exp show`: the F1s first, the details `bioner report` needs last.
    """
    applicable = {short_name(name): res for name, res in evals.items() if is_applicable(res)}
    out: dict[str, float] = {}
    for p, res in applicable.items():
        out[metric_key(p, "f1")] = round(float(res["micro"]["f1"]), 4)
        for etype, row in res["per_entity"].items():
            out[metric_key(p, "f1", etype)] = round(float(row["f1"]), 4)
    for p, res in applicable.items():
        for column in ("precision", "recall"):
            out[metric_key(p, column)] = round(float(res["micro"][column]), 4)
    run = snapshot.get("run") or {}
    last = run.get("phase2") or run.get("phase1") or {}
    if last.get("best_validation_f1") is not None:
        out["val_f1"] = round(float(last["best_validation_f1"]), 4)
    data = run.get("data") or {}
    uses_silver = _strategy(snapshot).uses_silver
    out["silver_sentences"] = int(data.get("silver_sentences", 0)) if uses_silver else 0
    # per-entity P/R and gold-span support: what `bioner report` needs for its table and N/A rule
    for p, res in applicable.items():
        for etype, row in res["per_entity"].items():
            for column in COLUMNS:
                if column != "f1":
                    out[metric_key(p, column, etype)] = int(row[column]) if column == "support" else \
                        round(float(row[column]), 4)
    if run.get("cpu_threads") is not None:  # what train.cpu_threads (auto: the idle cores) came to
        out["train_threads"] = int(run["cpu_threads"])
    if last.get("wall_s") is not None:
        out["train_wall_s"] = round(sum(float(run[ph]["wall_s"]) for ph in ("phase1", "phase2")
                                        if (run.get(ph) or {}).get("wall_s") is not None), 1)
    if run.get("environment"):  # the environment's short hash (metrics/environment.json has the record)
        out[ENV_HASH_KEY] = env_hash(run["environment"])
    return out


def scaling_point(metrics: dict[str, float], snapshot: dict[str, Any],
                  test_sets: tuple[str, ...] = tuple(TEST_SETS)) -> dict[str, Any]:
    """One point of the scaling curve: silver ratio and sentences actually used, and the test F1s."""
    uses_silver = _strategy(snapshot).uses_silver
    data = (snapshot.get("run") or {}).get("data") or {}
    point: dict[str, Any] = {
        "config": config_name(snapshot["strategy"], snapshot["backbone"]),
        "strategy": snapshot["strategy"],
        "backbone": snapshot["backbone"],
        "seed": snapshot["seed"],
        "silver_ratio": snapshot["silver"]["ratio"] if uses_silver else "0",
        "silver_sentences": int(data.get("silver_sentences", 0)) if uses_silver else 0,
        "gold_sentences": int(data.get("gold_sentences", 0)),
    }
    for name in test_sets:  # null where not applicable: DVC then still plots the other test sets' points
        key = f"{short_name(name)}_f1"
        point[key] = metrics.get(key)
    return point


#: run-to-run timings: written to timings.json beside metrics.json, not into it
TIMING_KEYS = ("train_wall_s",)


def dictionary_f1s(distant_metrics: Path) -> dict[str, float]:
    """The `<name>_dict_f1*` keys of the distant stage's metrics (absent in keep mode or without the file)."""
    if not distant_metrics.is_file():
        return {}
    return {k: v for k, v in _read_json(distant_metrics).items() if "_dict_f1" in k}


def write_run_metrics(model_dir: str | Path = "models", metrics_dir: str | Path = "metrics",
                      plots_dir: str | Path = "plots", test_sets: tuple[str, ...] = tuple(TEST_SETS)
                      ) -> dict[str, float]:
    """Write metrics.json, environment.json, config_snapshot.yaml and the scaling point; return the metrics.

    `test_sets`: the names of evaluate.test_sets, in column order; their scores are read from
    `<metrics_dir>/eval/<name>.json`."""
    model_dir, metrics_dir, plots_dir = Path(model_dir), Path(metrics_dir), Path(plots_dir)
    snapshot = _read_snapshot(model_dir / "config_snapshot.yaml")
    evals = {name: _read_json(metrics_dir / "eval" / f"{short_name(name)}.json") for name in test_sets}
    metrics = flat_metrics(evals, snapshot)
    metrics.update(dictionary_f1s(metrics_dir / "distant.json"))
    run = snapshot.get("run") or {}
    # timings vary run to run: kept out of metrics.json, which a re-run then reproduces byte for byte
    timings = {k: metrics.pop(k) for k in TIMING_KEYS if k in metrics}
    write_json(metrics_dir / "metrics.json", metrics)
    write_json(metrics_dir / "timings.json", timings)
    write_json(metrics_dir / "environment.json", record(run.get("environment"), run.get("lock")))
    write_yaml(metrics_dir / "config_snapshot.yaml", snapshot)
    # DVC plots read a JSON list of records; one record per experiment, compared across experiments.
    write_json(plots_dir / "scaling_point.json", [scaling_point(metrics, snapshot, test_sets)])
    return {**metrics, **timings}
