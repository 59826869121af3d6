"""The study report (`bioner report`): every experiment of `dvc exp show --json`, grouped, mean +- std.

Experiments that differ only in `seed` (and in RUNTIME_KEYS, settings of how a run executes rather than what
it learns) are replicates of one configuration; the backbone is part of every configuration. An experiment
whose params and metrics equal another's (an unchanged `dvc exp run` records a new experiment) counts once and
is listed as a duplicate. Outputs:
- metrics/aggregated_results.json: per group, its params, seeds and every metric's raw values, mean and std
  (sample std, ddof=1; 0 for one seed); failed/incomplete experiments and collapsed runs listed by name.
- metrics/aggregated_results.md: the paper table (per test set: per entity and micro P/R/F1 as mean +- std;
  entities with fewer than `min_support` gold spans in a test set shown as N/A, the JSON keeps the value).
- plots/scaling_curve.png + plots/scaling_curve.json: test F1 against silver sentences for the ratio study,
  drawn when one configuration has >= 2 silver ratios; otherwise an older curve there is removed, so a plot in
  plots/ always belongs to the report beside it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import atomic_open, write_json
from .errors import UserError
from .grid import CONFIGS, RATIO_STUDY_STRATEGY, config_name
from .labels import TEST_SETS
from .settings import defaults, flatten
from .strategies import STRATEGIES

METRICS_FILE = "metrics/metrics.json"
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
#: a run whose micro F1 is below this on every applicable test set predicted (almost) nothing: collapsed
COLLAPSE_F1 = 0.01


class StudyReportError(UserError, RuntimeError):
    """`dvc exp show` failed or returned nothing usable."""


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


def exp_show(repo: str | Path = ".", all_commits: bool = False) -> list[dict[str, Any]]:
    """`dvc exp show --json` (DVC's own machine-readable listing; queued/failed experiments included)."""
    cmd = ["dvc", "exp", "show", "--json"] + (["--all-commits"] if all_commits else [])
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StudyReportError(f"`{' '.join(cmd)}` failed in {repo}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout or "[]")


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
    if backbone != seed_backbone and not name.startswith("single_source_"):
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


def group_experiments(exps: list[Experiment]) -> list[Group]:
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
    return sorted(groups.values(), key=lambda g: g.label)


def drop_duplicates(runs: list[Experiment]) -> tuple[list[Experiment], list[tuple[Experiment, Experiment]]]:
    """Runs of one configuration with the same seed and identical metrics count once.

    `dvc exp run` with nothing changed records another experiment with the same params and metrics; averaged,
    it would pass for one more seed and shrink the std. Returns (kept, [(dropped, the run it duplicates)]).
    """
    kept: list[Experiment] = []
    dropped: list[tuple[Experiment, Experiment]] = []
    seen: dict[str, Experiment] = {}
    for e in runs:
        key = json.dumps([e.params.get("seed"), e.metrics], sort_keys=True, default=str)
        if key in seen:
            dropped.append((e, seen[key]))
        else:
            seen[key] = e
            kept.append(e)
    return kept, dropped


def summarize(values: list[float]) -> dict[str, Any]:
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"values": values, "mean": mean, "std": std, "n": len(values)}


def is_collapsed(metrics: dict[str, float]) -> bool:
    f1s = [v for k, v in metrics.items() if k.endswith("_f1") and k.split("_")[0] in _TS_PREFIXES]
    return bool(f1s) and all(v < COLLAPSE_F1 for v in f1s)


_TS_PREFIXES = tuple(t.removeprefix("test_") for t in TEST_SETS)


def entity_types_by_test_set(exps: list[Experiment]) -> dict[str, list[str]]:
    """Per test set, the entity types with per-entity metrics (`<ts>_f1_<Type>`) in any experiment, in the order
    of the experiments' metrics.json (the evaluated types' order): a new type needs no change here."""
    types: dict[str, dict[str, None]] = {ts: {} for ts in _TS_PREFIXES}
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
    groups = group_experiments(exps)
    out: dict[str, Any] = {"groups": [], "failed": [], "collapsed": [], "duplicates": [], "repeated_seeds": [],
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
        keys = sorted({k for e in ok for k in e.metrics})
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
        out["groups"].append({
            "label": g.label, "backbone": g.params.get("backbone"), "params": g.params,
            "runtime": {k: sorted({str(r.get(k)) for r in runtime}) for k in RUNTIME_KEYS},
            "seeds": seeds, "experiments": [e.name for e in ok],
            "collapsed": collapsed, "metrics": metrics,
        })
    return out


# ---------------------------------------------------------------------------------------------------------------
def _cell(m: dict[str, Any], key: str, na: bool) -> str:
    if na:
        return "N/A"
    if key not in m:
        return "-"
    return f"{m[key]['mean']:.3f} ± {m[key]['std']:.3f}"


def _runtime_cell(runtime: dict[str, list[str]], shown: list[str]) -> str:
    return ", ".join(f"{SHOWN_RUNTIME[k]} {'/'.join(runtime.get(k, ['?']))}" for k in shown)


def markdown(report: dict[str, Any], min_support: int = 10) -> str:
    lines = ["# Aggregated results", "",
             "Mean ± sample std (ddof=1) over seeds; entity-level scores as each experiment's metrics.json "
             f"holds them (bioner.metrics). Entities with fewer than {min_support} gold spans in a test set are "
             "N/A (the JSON keeps the values). `runtime`: the torch threads (and precision) the runs used; they "
             "do not split a configuration.", ""]
    # precision is shown only when some run did not use `auto` (fp32 on a CPU, mixed precision on a GPU)
    shown = [k for k in SHOWN_RUNTIME if k == "train.cpu_threads"
             or any(set(g["runtime"].get(k, [])) - {"auto"} for g in report["groups"])]
    for ts in _TS_PREFIXES:
        types = report["entity_types"].get(ts, [])
        rows = [g for g in report["groups"] if f"{ts}_f1" in g["metrics"]]
        if not rows:
            continue
        lines += [f"## {ts.upper() if ts == 'bc5cdr' else ts.capitalize()} test "
                  f"({', '.join(types)})", ""]
        head = ["config", "backbone", "seeds", "runtime"] + [f"{t} {m}" for t in (*types, "micro")
                                                             for m in ("P", "R", "F1")]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for g in rows:
            m = g["metrics"]
            cells = [g["label"] + (" ⚠ collapsed" if g["collapsed"] else ""), str(g["backbone"]),
                     str(len(g["seeds"])), _runtime_cell(g["runtime"], shown)]
            for t in (*types, "micro"):
                sup_key = f"{ts}_support_{t}"
                na = t != "micro" and sup_key in m and m[sup_key]["mean"] < min_support
                for met in ("precision", "recall", "f1"):
                    key = f"{ts}_{met}" if t == "micro" else f"{ts}_{met}_{t}"
                    cells.append(_cell(m, key, na))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if report["collapsed"]:
        lines += ["## Collapsed runs", "", "Runs whose micro F1 is below "
                  f"{COLLAPSE_F1} on every test set (they predict (almost) only O):", ""]
        lines += [f"- `{c['experiment']}` ({c['group']})" for c in report["collapsed"]] + [""]
    if report["duplicates"]:
        lines += ["## Duplicate experiments (counted once)", "",
                  "Same configuration, seed and metrics as another experiment (e.g. an unchanged `dvc exp run`):", ""]
        lines += [f"- `{d['experiment']}` = `{d['duplicate_of']}` ({d['group']}, seed {d['seed']})"
                  for d in report["duplicates"]] + [""]
    if report["repeated_seeds"]:
        lines += ["## Seeds run more than once", "",
                  "Same configuration and seed, different metrics (e.g. another thread count); each run counts:", ""]
        lines += [f"- {r['group']}, seed {r['seed']}: " + ", ".join(f"`{x}`" for x in r["experiments"])
                  for r in report["repeated_seeds"]] + [""]
    if report["failed"]:
        lines += ["## Failed or incomplete experiments", ""]
        lines += [f"- `{f['experiment']}` ({f['group']}, seed {f['seed']}): {f['reason']}"
                  for f in report["failed"]] + [""]
    return "\n".join(lines)


def scaling_points(report: dict[str, Any], strategy: str = RATIO_STUDY_STRATEGY) -> list[dict[str, Any]]:
    """Mean/std test F1 per silver ratio for the groups that differ only in silver.ratio."""
    pts, bases = [], []
    for g in report["groups"]:
        p = g["params"]
        if p.get("strategy") != strategy or "silver_sentences" not in g["metrics"]:
            continue
        row = {"group": g["label"], "backbone": p.get("backbone"), "silver_ratio": str(p.get("silver.ratio")),
               "silver_sentences": g["metrics"]["silver_sentences"]["mean"], "n_seeds": len(g["seeds"])}
        for ts in _TS_PREFIXES:
            if f"{ts}_f1" in g["metrics"]:
                row[f"{ts}_f1"] = g["metrics"][f"{ts}_f1"]["mean"]
                row[f"{ts}_f1_std"] = g["metrics"][f"{ts}_f1"]["std"]
        pts.append(row)
        # the curve's identity: every param but the ratio (labels gain suffixes when variants share a name)
        bases.append(json.dumps({k: v for k, v in p.items() if k != "silver.ratio"}, sort_keys=True, default=str))
    if not pts:
        return []
    # one curve: the params shared by the most ratios (other variants with the same strategy are left out)
    ratios = defaultdict(set)
    for r, b in zip(pts, bases, strict=True):
        ratios[b].add(r["silver_ratio"])
    main = max(sorted(ratios), key=lambda b: len(ratios[b]))  # sorted: ties resolve the same way every run
    pts = [r for r, b in zip(pts, bases, strict=True) if b == main]
    return sorted(pts, key=lambda r: r["silver_sentences"])


def plot_scaling(points: list[dict[str, Any]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    xs = [p["silver_sentences"] for p in points]
    for ts, color in zip(_TS_PREFIXES, ("tab:blue", "tab:orange"), strict=False):
        if not all(f"{ts}_f1" in p for p in points):
            continue
        ys = [p[f"{ts}_f1"] for p in points]
        sd = [p[f"{ts}_f1_std"] for p in points]
        ax.plot(xs, ys, marker="o", color=color, label=f"{ts} test micro F1")
        ax.fill_between(xs, [y - s for y, s in zip(ys, sd, strict=True)],
                        [y + s for y, s in zip(ys, sd, strict=True)], color=color, alpha=0.2)
        for x, y, p in zip(xs, ys, points, strict=True):
            ax.annotate(f"{p['silver_ratio']}:1" if p["silver_ratio"] != "full" else "full", (x, y),
                        textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("silver sentences in training")
    ax.set_ylabel("test F1 (mean ± std over seeds)")
    ax.set_title(f"Silver:gold scaling ({RATIO_STUDY_STRATEGY}, {points[0].get('backbone')})")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(png, "wb") as fh:
        fig.savefig(fh, format="png")
    plt.close(fig)


def write_study_report(repo: str | Path = ".", out_dir: str | Path = "metrics", plots_dir: str | Path = "plots",
                       all_commits: bool = False, min_support: int = 10,
                       rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Collect experiments, write the JSON + Markdown report and the scaling curve; return the report.

    `report["written"]` lists the files written, `report["removed"]` older curve files removed because this
    report has no curve (fewer than two silver ratios of one configuration).
    """
    exps = parse_experiments(rows if rows is not None else exp_show(repo, all_commits))
    if not exps:
        raise StudyReportError("no experiments found: run some first (`dvc exp run ...` or `bioner grid --run`); "
                               "`dvc exp show` lists only experiments of the current commit (try --all-commits)")
    rep = build_report(exps)
    out_dir, plots_dir = Path(out_dir), Path(plots_dir)
    pts = scaling_points(rep)
    rep["scaling"] = pts
    curve = [plots_dir / "scaling_curve.json", plots_dir / "scaling_curve.png"]
    rep["written"] = [str(out_dir / "aggregated_results.json"), str(out_dir / "aggregated_results.md")]
    rep["removed"] = []
    if len(pts) >= 2:
        write_json(curve[0], pts)
        plot_scaling(pts, curve[1])
        rep["written"] += [str(p) for p in curve]
    else:  # a curve left by an earlier report would pass for this one's
        for p in curve:
            if p.exists():
                p.unlink()
                rep["removed"].append(str(p))
    with atomic_open(out_dir / "aggregated_results.md") as fh:
        fh.write(markdown(rep, min_support))
    write_json(out_dir / "aggregated_results.json", rep)
    return rep
