"""Study report, part 1: experiments from `dvc exp show --json`, grouped into configurations, mean +- std.

Experiments that differ only in `seed` (and in RUNTIME_KEYS, settings of how a run executes rather than what
it learns) are replicates of one configuration; the backbone is part of every configuration. An experiment
whose params and metrics equal another's counts once and is listed as a duplicate. See `study_report`.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..settings.configs import CONFIGS, PER_BACKBONE, config_name
from ..settings.labels import TEST_SETS, scored_test_sets
from ..settings.settings import defaults, flatten
from ..settings.strategies import STRATEGIES
from ..training.environment import runs_by_env
from .labels import name_differences

METRICS_FILE = "metrics/metrics.json"
TIMINGS_FILE = "metrics/timings.json"  # train_wall_s: kept out of metrics.json (it differs run to run)
PARAMS_FILE = "params.yaml"
#: params that never define a configuration (replicates differ in them)
REPLICATE_KEYS = ("seed",)
#: settings of how a run executes, not what it learns: they never split a configuration. Their values are
#: kept per row (`runtime`): the thread count and, on a GPU, mixed precision can move the numbers slightly, so
#: the table says what its runs used. The process count of `train.launcher: torchrun` does change what is
#: learned (the effective batch is batch x processes), so it enters the configuration as `train.processes`.
RUNTIME_KEYS = ("train.cpu_threads", "train.eval_batch_size", "train.dataloader_workers", "train.precision",
                "train.launcher", "train.nproc")
#: runtime settings shown in the Markdown table (always threads; precision when any run is not on `auto`)
SHOWN_RUNTIME = {"train.cpu_threads": "threads", "train.precision": "precision"}
#: metrics that measure how a run executed (time, speed, memory, the threads `auto` came to), not what it
#: learned: a re-run differing only in these is the same result, never a second seed
RUNTIME_METRICS = ("train_threads",)
_RUNTIME_METRIC = re.compile(r"(_s|_seconds|_per_s\w*|_per_second|_mib|_mb|_gb|_rss\w*|throughput\w*)$")
#: a run whose micro F1 is below this on every applicable test set predicted (almost) nothing: collapsed
COLLAPSE_F1 = 0.01


@dataclass
class Experiment:
    name: str
    rev: str
    params: dict[str, Any]
    metrics: dict[str, float] | None
    error: str | None = None


@dataclass
class Group:
    key: str
    label: str
    params: dict[str, Any]
    runs: list[Experiment] = field(default_factory=list)


def parse_experiments(rows: list[dict[str, Any]]) -> list[Experiment]:
    """Experiments (not baselines or the workspace) from `dvc exp show --json` output."""
    out: list[Experiment] = []
    for baseline in rows:
        for exp in baseline.get("experiments") or []:
            for rev in exp.get("revs") or []:
                name = rev.get("name") or exp.get("name") or rev.get("rev", "")[:7]
                data = rev.get("data") or {}
                params = flatten(((data.get("params") or {}).get(PARAMS_FILE) or {}).get("data") or {})
                mfile = (data.get("metrics") or {}).get(METRICS_FILE) or {}
                metrics = mfile.get("data")
                timings = ((data.get("metrics") or {}).get(TIMINGS_FILE) or {}).get("data")
                if metrics is not None and timings:
                    metrics = {**metrics, **timings}
                err = None
                if rev.get("error"):
                    err = rev["error"].get("msg", "error")
                elif mfile.get("error"):
                    err = mfile["error"].get("msg", "metrics missing")
                elif metrics is None:
                    err = "no metrics (queued, running or failed)"
                state = (exp.get("executor") or {}).get("state") if isinstance(exp.get("executor"), dict) \
                    else None
                if state not in (None, "success"):  # queued / running show the baseline's metrics: not results
                    err = f"experiment {state}"
                out.append(Experiment(name, rev.get("rev", ""), params, metrics, err))
    return out


def group_label(p: dict[str, Any]) -> str:
    """Human name of a configuration: the seed config name and its backbone, plus ratio/weight where they differ.

    The backbone is named unless the name already says it (a seed config on its seed backbone,
    `single_source_<backbone>`): a tiny and a MiniLM row of one strategy never share a label.
    """
    strategy, backbone = p.get("strategy", "?"), p.get("backbone", "?")
    strat = STRATEGIES.get(strategy)
    name = config_name(strategy, backbone)
    seed_backbone = dict(CONFIGS).get(name, (None, None))[1]
    parts = [name]
    named_by_backbone = name not in CONFIGS and strategy in PER_BACKBONE  # `<strategy>_<backbone>`
    if backbone != seed_backbone and not named_by_backbone:
        parts.append(f"[{backbone}]")
    if (strat is None or strat.uses_silver) and str(p.get("silver.ratio", "full")) != "full":
        parts.append(f"ratio={p['silver.ratio']}")
    if strat is not None and strat.silver_weighted and p.get("silver.weight") not in (None, 0.5):
        parts.append(f"w={p['silver.weight']}")
    return " ".join(parts)


def configuration(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what defines the configuration, the runtime settings) of one experiment's flat params."""
    cfg = {k: v for k, v in params.items() if k not in REPLICATE_KEYS and k not in RUNTIME_KEYS}
    torchrun = params.get("train.launcher") == "torchrun"
    cfg["train.processes"] = int(params.get("train.nproc", 1)) if torchrun else 1
    return cfg, {k: params[k] for k in RUNTIME_KEYS if k in params}


def group_experiments(exps: list[Experiment], common: dict[str, Any] | None = None) -> list[Group]:
    """Experiments grouped by configuration; `common` gets the non-default settings every group shares."""
    groups: dict[str, Group] = {}
    # an experiment from before a param existed ran with that param's default: fill it in, so that adding a
    # param to params.yaml does not split every old configuration from its new runs
    default_params = flatten(defaults())
    for e in exps:
        cfg, _ = configuration({**default_params, **e.params})
        key = json.dumps(cfg, sort_keys=True, default=str)
        if key not in groups:
            groups[key] = Group(key=key, label=group_label(cfg), params=cfg)
        groups[key].runs.append(e)
    # labels must be unique: add the differing params when two groups share one
    by_label: dict[str, list[Group]] = defaultdict(list)
    for g in groups.values():
        by_label[g.label].append(g)
    for label, gs in by_label.items():
        if len(gs) > 1:
            keys = sorted({k for g in gs for k in g.params})
            differ = [k for k in keys if len({json.dumps(g.params.get(k), default=str) for g in gs}) > 1]
            for g in gs:
                g.label = label + " (" + ", ".join(f"{k}={g.params.get(k)}" for k in differ) + ")"
    shared = name_differences(list(groups.values()), default_params)
    if common is not None:
        common.update(shared)
    return sorted(groups.values(), key=lambda g: g.label)


#: a test set's score: `<name>_f1`, `<name>_precision_<Type>`, `<name>_dict_f1`, ...
_TEST_SET_SCORE = re.compile(r"[a-z][a-z0-9]*_(dict_f1|f1|precision|recall|support)(_|$)")


def is_runtime_metric(key: str) -> bool:
    """A timing, throughput or memory figure (`train_wall_s`) or `train_threads`; never a test-set score."""
    if _TEST_SET_SCORE.match(key):
        return False
    return key in RUNTIME_METRICS or bool(_RUNTIME_METRIC.search(key))


def drop_duplicates(runs: list[Experiment]) -> tuple[list[Experiment], list[tuple[Experiment, Experiment]]]:
    """Runs of one configuration with the same seed and identical metrics (runtime figures aside) count once.

    `dvc exp run` with nothing changed records another experiment with the same params and metrics; averaged,
    it would pass for one more seed and shrink the std. Returns (kept, [(dropped, the run it duplicates)]).
    """
    kept: list[Experiment] = []
    dropped: list[tuple[Experiment, Experiment]] = []
    seen: dict[str, Experiment] = {}
    for e in runs:
        learned = {k: v for k, v in (e.metrics or {}).items() if not is_runtime_metric(k)}
        key = json.dumps([e.params.get("seed"), learned], sort_keys=True, default=str)
        if key in seen:
            dropped.append((e, seen[key]))
        else:
            seen[key] = e
            kept.append(e)
    return kept, dropped


def summarize(values: list[float]) -> dict[str, Any]:
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else None  # no sample std for one value
    return {"values": values, "mean": mean, "std": std, "n": len(values)}


def is_collapsed(metrics: dict[str, float]) -> bool:
    f1s = [metrics[f"{ts}_f1"] for ts in scored_test_sets(metrics)]
    return bool(f1s) and all(v < COLLAPSE_F1 for v in f1s)


def test_set_names(exps: list[Experiment]) -> list[str]:
    """The test sets any experiment was scored on, in the order of their metrics.json (the settings' order);
    the default test sets when none was."""
    names: dict[str, None] = {}
    for e in exps:
        names.update(dict.fromkeys(scored_test_sets(e.metrics or {})))
    return list(names) or list(TEST_SETS)


def entity_types_by_test_set(exps: list[Experiment]) -> dict[str, list[str]]:
    """Per test set, the entity types with per-entity metrics (`<ts>_f1_<Type>`) in any experiment, in the order
    of the experiments' metrics.json (the evaluated types' order): a new type needs no change here."""
    types: dict[str, dict[str, None]] = {ts: {} for ts in test_set_names(exps)}
    for e in exps:
        for key in e.metrics or {}:
            ts, sep, etype = key.partition("_f1_")
            if sep and ts in types:
                types[ts].setdefault(etype, None)
    return {ts: list(t) for ts, t in types.items()}


def _runtime(e: Experiment, default_params: dict[str, Any]) -> dict[str, Any]:
    """An experiment's runtime settings; the thread count as the run resolved it (`auto` depends on the load
    when training started) where its metrics record it (`train_threads`)."""
    rt = configuration({**default_params, **e.params})[1]
    if e.metrics and "train_threads" in e.metrics:
        rt["train.cpu_threads"] = int(e.metrics["train_threads"])
    return rt


def build_report(exps: list[Experiment]) -> dict[str, Any]:
    common: dict[str, Any] = {}
    groups = group_experiments(exps, common)
    out: dict[str, Any] = {"common_settings": common,
                           "groups": [], "failed": [], "collapsed": [], "duplicates": [], "repeated_seeds": [],
                           "mixed_environments": [],
                           "entity_types": entity_types_by_test_set([e for e in exps if e.error is None])}
    default_params = flatten(defaults())
    for g in groups:
        ok = [e for e in g.runs if e.error is None and e.metrics]
        for e in g.runs:
            if e.error is not None or not e.metrics:
                out["failed"].append({"experiment": e.name, "group": g.label, "seed": e.params.get("seed"),
                                      "reason": e.error or "no metrics"})
        ok, dups = drop_duplicates(ok)
        for e, first in dups:
            out["duplicates"].append({"experiment": e.name, "duplicate_of": first.name, "group": g.label,
                                      "seed": e.params.get("seed")})
        seeds = [e.params.get("seed") for e in ok]
        for seed in sorted({s for s in seeds if seeds.count(s) > 1}, key=str):
            out["repeated_seeds"].append({"group": g.label, "seed": seed,
                                          "experiments": [e.name for e in ok if e.params.get("seed") == seed]})
        runtime = [_runtime(e, default_params) for e in ok]
        keys = sorted({k for e in ok for k, v in e.metrics.items() if isinstance(v, (int, float))})  # not env_hash
        metrics: dict[str, Any] = {}
        for k in keys:
            vals = [float(e.metrics[k]) for e in ok if k in e.metrics]
            missing = [e.name for e in ok if k not in e.metrics]
            metrics[k] = summarize(vals)
            if missing:
                metrics[k]["missing_in"] = missing
        collapsed = [e.name for e in ok if is_collapsed(e.metrics)]
        for name in collapsed:
            out["collapsed"].append({"experiment": name, "group": g.label})
        envs = runs_by_env([(e.name, e.metrics) for e in ok])
        if len(envs) > 1:  # averaged runs from different (or unrecorded) environments
            out["mixed_environments"].append({"group": g.label, "environments": envs})
        out["groups"].append({
            "label": g.label, "backbone": g.params.get("backbone"), "params": g.params,
            "runtime": {k: sorted({str(r.get(k)) for r in runtime}) for k in RUNTIME_KEYS},
            "seeds": seeds, "experiments": [e.name for e in ok],
            "collapsed": collapsed, "environments": envs, "metrics": metrics,
        })
    return out


