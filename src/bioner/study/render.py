"""Study report, part 2: the paper table (Markdown) and the silver:gold scaling curve of a built report."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_open
from ..settings.configs import RATIO_STUDY_STRATEGY
from ..settings.labels import COLUMNS, scored_test_sets
from .groups import COLLAPSE_F1, SHOWN_RUNTIME


def _cell(m: dict[str, Any], key: str, na: bool) -> str:
    if na:
        return "N/A"
    if key not in m:
        return "-"
    if m[key]["std"] is None:
        return f"{m[key]['mean']:.3f} (n={m[key]['n']})"
    return f"{m[key]['mean']:.3f} ± {m[key]['std']:.3f}"


def _runtime_cell(runtime: dict[str, list[str]], shown: list[str]) -> str:
    return ", ".join(f"{SHOWN_RUNTIME[k]} {'/'.join(runtime.get(k, ['?']))}" for k in shown)


def _test_set_table(report: dict[str, Any], ts: str, types: list[str], shown: list[str],
                    min_support: int) -> list[str]:
    """One test set's table: a row per group scored on it, P/R/F1 per type and micro (and the dictionary's F1)."""
    rows = [g for g in report["groups"] if f"{ts}_f1" in g["metrics"]]
    if not rows:
        return []
    lines = [f"## {ts.upper() if ts == 'bc5cdr' else ts.capitalize()} test ({', '.join(types)})", ""]
    head = ["config", "backbone", "seeds", "runtime"] + [f"{t} {m}" for t in (*types, "micro")
                                                         for m in ("P", "R", "F1")]
    # the dictionary labelling's own micro F1 (distant.mode=relabel): what a model trained on it should beat
    dict_col = any(f"{ts}_dict_f1" in g["metrics"] for g in rows)
    head += ["dictionary F1"] if dict_col else []
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g in rows:
        m = g["metrics"]
        cells = [g["label"] + (" ⚠ collapsed" if g["collapsed"] else "")
                 + (" ⚠ mixed environments" if len(g.get("environments", {})) > 1 else ""), str(g["backbone"]),
                 str(len(g["seeds"])), _runtime_cell(g["runtime"], shown)]
        for t in (*types, "micro"):
            sup_key = f"{ts}_support_{t}"
            na = t != "micro" and sup_key in m and m[sup_key]["mean"] < min_support
            for met in (c for c in COLUMNS if c != "support"):
                key = f"{ts}_{met}" if t == "micro" else f"{ts}_{met}_{t}"
                cells.append(_cell(m, key, na))
        if dict_col:
            cells.append(_cell(m, f"{ts}_dict_f1", False))
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def markdown(report: dict[str, Any], min_support: int = 10) -> str:
    lines = ["# Aggregated results", "",
             "Mean ± sample std (ddof=1) over seeds; entity-level scores as each experiment's metrics.json "
             f"holds them (bioner.metrics). Entities with fewer than {min_support} gold spans in a test set are "
             "N/A (the JSON keeps the values). `runtime`: the torch threads (and precision) the runs used; they "
             "do not split a configuration. One run: `(n=1)`, no std.", ""]
    if report.get("common_settings"):
        lines += ["Every row: " + ", ".join(f"`{k}={v}`" for k, v in sorted(report["common_settings"].items()))
                  + " (the other settings are the defaults, or named in the row's label).", ""]
    # precision is shown only when some run did not use `auto` (fp32 on a CPU, mixed precision on a GPU)
    shown = [k for k in SHOWN_RUNTIME if k == "train.cpu_threads"
             or any(set(g["runtime"].get(k, [])) - {"auto"} for g in report["groups"])]
    for ts, types in report["entity_types"].items():
        lines += _test_set_table(report, ts, types, shown, min_support)
    if report["collapsed"]:
        lines += ["## Collapsed runs", "", "Runs whose micro F1 is below "
                  f"{COLLAPSE_F1} on every test set (they predict (almost) only O):", ""]
        lines += [f"- `{c['experiment']}` ({c['group']})" for c in report["collapsed"]] + [""]
    if report.get("mixed_environments"):
        lines += ["## Runs from different environments", "",
                  "Rows averaged over runs whose environment (`env_hash`: numerical package versions, Python, "
                  "threads, CPU/GPU, precision; metrics/environment.json) differs or was not recorded:", ""]
        lines += [f"- {m['group']}: " + "; ".join(f"`{h}`: " + ", ".join(f"`{x}`" for x in names)
                                                  for h, names in m["environments"].items())
                  for m in report["mixed_environments"]] + [""]
    if report["duplicates"]:
        lines += ["## Duplicate experiments (counted once)", "",
                  "Same configuration, seed and scores as another experiment, timings aside (a re-run):", ""]
        lines += [f"- `{d['experiment']}` = `{d['duplicate_of']}` ({d['group']}, seed {d['seed']})"
                  for d in report["duplicates"]] + [""]
    if report["repeated_seeds"]:
        lines += ["## Seeds run more than once", "",
                  "Same configuration and seed, different scores (e.g. another thread count); each run counts:", ""]
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
        for ts in report["entity_types"]:
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
    for ts, color in zip(scored_test_sets(points[0]), plt.cm.tab10.colors, strict=False):
        if not all(f"{ts}_f1" in p for p in points):
            continue
        ys = [p[f"{ts}_f1"] for p in points]
        sd = [p[f"{ts}_f1_std"] or 0.0 for p in points]  # None: one seed
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


