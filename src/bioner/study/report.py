"""The study report (`bioner report`): every experiment of `dvc exp show --json`, grouped, mean +- std.

Experiments that differ only in `seed` (and in RUNTIME_KEYS, settings of how a run executes rather than what
it learns) are replicates of one configuration; the backbone is part of every configuration. An experiment
whose params and metrics equal another's (an unchanged `dvc exp run` records a new experiment) counts once and
is listed as a duplicate. Outputs:
- metrics/aggregated_results.json: per group, its params, seeds and every metric's raw values, mean and std
  (sample std, ddof=1; null for one seed); failed/incomplete experiments and collapsed runs listed by name.
- metrics/aggregated_results.md: the paper table (per test set: per entity and micro P/R/F1 as mean +- std;
  entities with fewer than `min_support` gold spans in a test set shown as N/A, the JSON keeps the value).
- plots/scaling_curve.png + plots/scaling_curve.json: test F1 against silver sentences for the ratio study,
  drawn when one configuration has >= 2 silver ratios; otherwise an older curve there is removed, so a plot in
  plots/ always belongs to the report beside it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..io.atomic import atomic_open, write_json
from .grid import dvc_command
from .groups import build_report, parse_experiments
from .render import markdown, plot_scaling, scaling_points


class StudyReportError(UserError, RuntimeError):
    """`dvc exp show` failed or returned nothing usable."""



def exp_show(repo: str | Path = ".", all_commits: bool = False) -> list[dict[str, Any]]:
    """`dvc exp show --json` (DVC's own machine-readable listing; queued/failed experiments included)."""
    cmd = [dvc_command(), "exp", "show", "--json"] + (["--all-commits"] if all_commits else [])
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StudyReportError(f"`{' '.join(cmd)}` failed in {repo}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout or "[]")



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
