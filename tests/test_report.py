"""bioner report / grid: grouping, mean +- std, N/A rule, collapsed and failed runs, scaling PNG."""

from __future__ import annotations

import json
import statistics
import struct
from pathlib import Path

import pytest

from bioner.grid import study_points
from bioner.study_report import build_report, markdown, parse_experiments, scaling_points, write_study_report


def _rev(name: str, params: dict, metrics: dict | None, error: dict | None = None) -> dict:
    data = {"params": {"params.yaml": {"data": params}},
            "metrics": {"metrics/metrics.json": {"data": metrics} if metrics is not None
                        else {"error": {"type": "FileNotFoundError", "msg": "no metrics.json"}}}}
    return {"revs": [{"rev": name * 5, "name": name, "data": data, "error": error, "experiments": None}],
            "executor": None, "name": name}


def _params(strategy: str, seed: int, ratio: str = "full", backbone: str = "tiny") -> dict:
    return {"strategy": strategy, "backbone": backbone, "seed": seed, "silver": {"ratio": ratio, "weight": 0.5},
            "data": {"source": "sample"}}


def _metrics(f1: float, silver: int, virus_support: int = 37) -> dict:
    m = {"bc5cdr_f1": f1, "bc5cdr_precision": f1 + 0.01, "bc5cdr_recall": f1 - 0.01,
         "pubmed_f1": f1 / 2, "pubmed_precision": f1 / 2, "pubmed_recall": f1 / 2,
         "silver_sentences": silver}
    for ts, types in (("bc5cdr", ("Chemical", "Disease")), ("pubmed", ("Virus", "Gene"))):
        for t in types:
            for k in ("precision", "recall", "f1"):
                m[f"{ts}_{k}_{t}"] = f1
            m[f"{ts}_support_{t}"] = virus_support if t == "Virus" else 500
    return m


@pytest.fixture
def rows() -> list[dict]:
    exps = []
    for i, seed in enumerate((42, 1337, 2024)):
        exps.append(_rev(f"cfg5-s{seed}", _params("joint_uniform", seed), _metrics(0.80 + 0.01 * i, 4000)))
        exps.append(_rev(f"ratio1-s{seed}", _params("joint_uniform", seed, "1"), _metrics(0.70 + 0.02 * i, 1000)))
        exps.append(_rev(f"ratio2-s{seed}", _params("joint_uniform", seed, "2"), _metrics(0.75 + 0.01 * i, 2000)))
    exps.append(_rev("cfg6-s42", _params("joint_noise_aware", 42), _metrics(0.0, 4000)))  # collapsed
    exps.append(_rev("cfg6-s1337", _params("joint_noise_aware", 1337), _metrics(0.6, 4000)))
    exps.append(_rev("cfg4-s42", _params("sequential", 42), None))  # failed: no metrics
    return [{"rev": "workspace", "experiments": None}, {"rev": "abc", "name": "main", "experiments": exps}]


def test_groups_mean_std_recomputed(rows: list[dict]) -> None:
    rep = build_report(parse_experiments(rows))
    g = {x["label"]: x for x in rep["groups"]}
    cfg5 = g["config_5_joint_uniform [tiny]"]
    assert sorted(cfg5["seeds"]) == [42, 1337, 2024]
    vals = [0.80, 0.81, 0.82]
    assert cfg5["metrics"]["bc5cdr_f1"]["mean"] == pytest.approx(statistics.fmean(vals))
    assert cfg5["metrics"]["bc5cdr_f1"]["std"] == pytest.approx(statistics.stdev(vals))
    assert sorted(cfg5["metrics"]["bc5cdr_f1"]["values"]) == pytest.approx(vals)
    assert "config_5_joint_uniform [tiny] ratio=1" in g


def test_failed_and_collapsed_are_listed(rows: list[dict]) -> None:
    rep = build_report(parse_experiments(rows))
    assert [f["experiment"] for f in rep["failed"]] == ["cfg4-s42"]
    assert [c["experiment"] for c in rep["collapsed"]] == ["cfg6-s42"]
    md = markdown(rep)
    assert "cfg4-s42" in md and "cfg6-s42" in md and "collapsed" in md


def test_na_rule_markdown_only(rows: list[dict]) -> None:
    for r in rows[1]["experiments"]:
        m = r["revs"][0]["data"]["metrics"]["metrics/metrics.json"].get("data")
        if m:
            m["pubmed_support_Virus"] = 7
    rep = build_report(parse_experiments(rows))
    md = markdown(rep, min_support=10)
    pubmed = md.split("## Pubmed test")[1]
    row = next(line for line in pubmed.splitlines() if line.startswith("| config_5_joint_uniform [tiny] |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2:5] == ["N/A", "N/A", "N/A"]  # Virus P/R/F1
    assert cells[5] != "N/A"  # Gene
    g = next(x for x in rep["groups"] if x["label"] == "config_5_joint_uniform [tiny]")
    assert g["metrics"]["pubmed_f1_Virus"]["mean"] == pytest.approx(0.81)  # JSON keeps the raw value


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_report_files_and_scaling_png(rows: list[dict], tmp_path: Path) -> None:
    rep = write_study_report(rows=rows, out_dir=tmp_path / "metrics", plots_dir=tmp_path / "plots")
    saved = json.loads((tmp_path / "metrics" / "aggregated_results.json").read_text())
    assert saved["failed"] == rep["failed"] and saved["scaling"] == rep["scaling"]  # one write, curve included
    assert (tmp_path / "metrics" / "aggregated_results.md").read_text().startswith("# Aggregated results")
    pts = json.loads((tmp_path / "plots" / "scaling_curve.json").read_text())
    assert [p["silver_ratio"] for p in pts] == ["1", "2", "full"]
    assert pts[0]["bc5cdr_f1"] == pytest.approx(statistics.fmean([0.70, 0.72, 0.74]))
    w, h = _png_size(tmp_path / "plots" / "scaling_curve.png")
    assert w > 200 and h > 200


def test_grid_points() -> None:
    pts = study_points([42, 1337], "all", backbone="tiny", single_source_backbones=["tiny", "minilm"])
    names = [p.name for p in pts]
    assert "ss-minilm-s42" in names and "cfg5-s1337" in names and "ratio4-s42" in names
    assert not any(n.startswith("ratiofull") for n in names)  # full = config 5
    assert len(pts) == 2 * 2 + 3 * 2 + 3 * 2
    seeded = study_points([42], "configs")
    assert {p.overrides["backbone"] for p in seeded} == {"bert-base", "biobert", "pubmedbert"}


def test_running_experiment_is_not_a_result(rows: list[dict]) -> None:
    """A queued/running experiment shows the baseline's metrics in `dvc exp show`: it must not be averaged."""
    running = _rev("cfg5-s7", _params("joint_uniform", 7), _metrics(0.99, 4000))
    running["executor"] = {"state": "running", "name": "dvc-task"}
    rows[1]["experiments"].append(running)
    rep = build_report(parse_experiments(rows))
    cfg5 = next(g for g in rep["groups"] if g["label"] == "config_5_joint_uniform [tiny]")
    assert 7 not in cfg5["seeds"]
    assert any(f["experiment"] == "cfg5-s7" and "running" in f["reason"] for f in rep["failed"])


def test_scaling_curve_ignores_a_variant_of_the_full_run(rows: list[dict]) -> None:
    # a diagnostic variant of config 5 (one param changed) makes both full-ratio groups' labels carry a suffix;
    # the curve must still be the ratio series plus its own full point, not the variant
    variant = {**_params("joint_uniform", 42), "train": {"group_by_length": False}}
    for r in rows[1]["experiments"]:
        r["revs"][0]["data"]["params"]["params.yaml"]["data"]["train"] = {"group_by_length": True}
    rows[1]["experiments"].append(_rev("cfg5-nogroup-s42", variant, _metrics(0.5, 4000)))
    rep = build_report(parse_experiments(rows))
    assert any(g["label"].endswith("(train.group_by_length=False)") for g in rep["groups"])
    pts = scaling_points(rep)
    assert [p["silver_ratio"] for p in pts] == ["1", "2", "full"]
    assert pts[-1]["n_seeds"] == 3 and pts[-1]["bc5cdr_f1"] == pytest.approx(0.81)


def test_param_added_later_takes_its_default(rows: list[dict]) -> None:
    # runs queued after `tiny.vocab_text` was added carry it; older runs of the same config do not
    new = {**_params("joint_uniform", 7), "tiny": {"vocab_text": "train"}}
    other = {**_params("joint_uniform", 8), "tiny": {"vocab_text": "gold"}}
    rows[1]["experiments"] += [_rev("cfg5-s7", new, _metrics(0.83, 4000)),
                               _rev("cfg5-gold-s8", other, _metrics(0.5, 4000))]
    g = {x["label"]: x for x in build_report(parse_experiments(rows))["groups"]}
    assert sorted(g["config_5_joint_uniform [tiny] (tiny.vocab_text=train)"]["seeds"]) == [7, 42, 1337, 2024]
    assert g["config_5_joint_uniform [tiny] (tiny.vocab_text=gold)"]["seeds"] == [8]
