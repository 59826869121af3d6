"""`bioner grid` + `dvc queue start` + `bioner report` for real: a small grid on the sample."""

from __future__ import annotations

import json
import statistics
import struct

import pytest

from conftest import Repo


@pytest.mark.slow
def test_grid_queue_report(repo: Repo) -> None:
    out = repo.run("bioner", "grid", "--study", "ratios", "--ratios", "1,2", "--seeds", "42,1337",
                   "--backbone", "tiny", "--prefix", "t-")
    assert "queued 4 experiments" in out, out
    repo.run("dvc", "queue", "start", "-j", "1")
    repo.run("python", "-c", "from bioner.study.grid import wait; wait()")
    out = repo.run("bioner", "report")
    assert "2 configurations from 4 experiments" in out, out

    # independent recomputation from `dvc exp show --json`
    shown = json.loads(repo.run("dvc", "exp", "show", "--json", "--no-pager"))
    per_ratio: dict[str, list[dict]] = {}
    for entry in shown:
        for exp in entry.get("experiments") or []:
            for rev in exp["revs"]:
                p = rev["data"]["params"]["params.yaml"]["data"]
                m = rev["data"]["metrics"]["metrics/metrics.json"]["data"]
                per_ratio.setdefault(str(p["silver"]["ratio"]), []).append(m)
    assert sorted(per_ratio) == ["1", "2"] and all(len(v) == 2 for v in per_ratio.values())

    rep = repo.json("metrics/aggregated_results.json")
    groups = {str(g["params"]["silver.ratio"]): g for g in rep["groups"]}
    for ratio, runs in per_ratio.items():
        g = groups[ratio]
        for key in ("bc5cdr_f1", "pubmed_f1", "bc5cdr_precision_Chemical", "pubmed_recall_Gene"):
            vals = [r[key] for r in runs]
            assert g["metrics"][key]["mean"] == pytest.approx(statistics.fmean(vals))
            assert g["metrics"][key]["std"] == pytest.approx(statistics.stdev(vals))
    md = (repo.path / "metrics/aggregated_results.md").read_text()
    for ratio in ("1", "2"):
        mean = groups[ratio]["metrics"]["bc5cdr_f1"]["mean"]
        std = groups[ratio]["metrics"]["bc5cdr_f1"]["std"]
        assert f"{mean:.3f} ± {std:.3f}" in md
    png = (repo.path / "plots/scaling_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and min(struct.unpack(">II", png[16:24])) > 100
