"""bioner report / grid: grouping, mean +- std, N/A rule, collapsed and failed runs, scaling PNG."""

from __future__ import annotations

import json
import statistics
import struct
from pathlib import Path

import pytest

from bioner.study.grid import study_points
from bioner.study.groups import build_report, parse_experiments
from bioner.study.render import markdown, scaling_points
from bioner.study.report import write_study_report


def _rev(name: str, params: dict, metrics: dict | None, error: dict | None = None) -> dict:
    data = {"params": {"params.yaml": {"data": params}},
            "metrics": {"metrics/metrics.json": {"data": metrics} if metrics is not None
                        else {"error": {"type": "FileNotFoundError", "msg": "no metrics.json"}}}}
    return {"revs": [{"rev": name * 5, "name": name, "data": data, "error": error, "experiments": None}],
            "executor": None, "name": name}


def _params(strategy: str, seed: int, ratio: str = "full", backbone: str = "tiny", **train: object) -> dict:
    return {"strategy": strategy, "backbone": backbone, "seed": seed, "silver": {"ratio": ratio, "weight": 0.5},
            "data": {"source": "sample"}, **({"train": train} if train else {})}


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
    assert cells[1:4] == ["tiny", "3", "threads auto"]  # backbone, seeds, runtime
    assert cells[4:7] == ["N/A", "N/A", "N/A"]  # Virus P/R/F1
    assert cells[7] != "N/A"  # Gene
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


def _only_ratio(rows: list[dict], ratio: str) -> None:
    rows[1]["experiments"] = [r for r in rows[1]["experiments"] if r["name"].startswith(f"ratio{ratio}-")]


def test_no_curve_from_one_ratio_and_no_stale_curve_left(rows: list[dict], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """One silver ratio draws no curve: the report must not claim one, nor leave an older one in plots/."""
    from bioner.cli import pipeline as cli

    plots = tmp_path / "plots"
    write_study_report(rows=rows, out_dir=tmp_path / "metrics", plots_dir=plots)  # three ratios: a curve
    assert (plots / "scaling_curve.png").is_file()
    _only_ratio(rows, "1")
    rep = write_study_report(rows=rows, out_dir=tmp_path / "metrics", plots_dir=plots)
    assert len(rep["scaling"]) == 1
    assert not (plots / "scaling_curve.png").exists() and not (plots / "scaling_curve.json").exists()
    assert sorted(rep["removed"]) == sorted(str(plots / f) for f in ("scaling_curve.json", "scaling_curve.png"))
    assert not any("scaling_curve" in w for w in rep["written"])

    # the CLI's words, with `dvc exp show` replaced by the same rows
    import bioner.study.report as R

    orig = R.exp_show
    R.exp_show = lambda repo, all_commits=False: rows
    try:
        assert cli.main(["report", "--out_dir", str(tmp_path / "m2"), "--plots_dir", str(plots)]) == 0
    finally:
        R.exp_show = orig
    out = capsys.readouterr().out
    assert "scaling curve: not drawn" in out and "found 1" in out and "-> " + str(plots) not in out


def test_unchanged_rerun_counts_once(rows: list[dict]) -> None:
    """An unchanged `dvc exp run` records a new experiment with the same params and metrics: not a new seed."""
    again = _rev("cfg5-s1337-again", _params("joint_uniform", 1337), _metrics(0.81, 4000))
    rows[1]["experiments"].append(again)
    rep = build_report(parse_experiments(rows))
    cfg5 = next(g for g in rep["groups"] if g["label"] == "config_5_joint_uniform [tiny]")
    assert sorted(cfg5["seeds"]) == [42, 1337, 2024] and cfg5["metrics"]["bc5cdr_f1"]["n"] == 3
    assert cfg5["metrics"]["bc5cdr_f1"]["std"] == pytest.approx(statistics.stdev([0.80, 0.81, 0.82]))
    assert rep["duplicates"] == [{"experiment": "cfg5-s1337-again", "duplicate_of": "cfg5-s1337",
                                  "group": "config_5_joint_uniform [tiny]", "seed": 1337}]
    assert "cfg5-s1337-again" in markdown(rep) and not rep["repeated_seeds"]


def test_same_seed_different_metrics_is_kept_and_named(rows: list[dict]) -> None:
    # same configuration and seed, other thread count, other numbers: a real run, counted, but said
    rows[1]["experiments"].append(_rev("cfg5-s42-t2", _params("joint_uniform", 42, cpu_threads=2),
                                       _metrics(0.79, 4000)))
    rep = build_report(parse_experiments(rows))
    cfg5 = next(g for g in rep["groups"] if g["label"] == "config_5_joint_uniform [tiny]")
    assert sorted(cfg5["seeds"]) == [42, 42, 1337, 2024] and not rep["duplicates"]
    assert rep["repeated_seeds"] == [{"group": "config_5_joint_uniform [tiny]", "seed": 42,
                                      "experiments": ["cfg5-s42", "cfg5-s42-t2"]}]


@pytest.mark.parametrize("runtime", [{"cpu_threads": 1}, {"eval_batch_size": 8}, {"dataloader_workers": 2},
                                     {"precision": "fp32"}, {"launcher": "torchrun", "nproc": 1}])
def test_runtime_settings_do_not_split_a_configuration(rows: list[dict], runtime: dict) -> None:
    rows[1]["experiments"].append(_rev("cfg5-s7", _params("joint_uniform", 7, **runtime), _metrics(0.83, 4000)))
    rep = build_report(parse_experiments(rows))
    labels = [g["label"] for g in rep["groups"]]
    assert len([lab for lab in labels if lab.startswith("config_5_joint_uniform [tiny]") and "ratio" not in lab]) == 1
    cfg5 = next(g for g in rep["groups"] if g["label"] == "config_5_joint_uniform [tiny]")
    assert sorted(cfg5["seeds"]) == [7, 42, 1337, 2024]
    key, value = next(iter(runtime.items()))
    assert str(value) in cfg5["runtime"][f"train.{key}"] and len(cfg5["runtime"][f"train.{key}"]) == 2
    md = markdown(rep)
    row = next(line for line in md.splitlines() if line.startswith("| config_5_joint_uniform [tiny] |"))
    assert ("threads 1/auto" if key == "cpu_threads" else "threads auto") in row
    assert ("precision auto/fp32" in row) == (key == "precision")  # listed in the row, not a split


def test_data_parallel_processes_define_a_configuration(rows: list[dict]) -> None:
    # two torchrun processes double the effective batch: that is another configuration, and the label says so
    rows[1]["experiments"].append(_rev("cfg5-ddp-s42", _params("joint_uniform", 42, launcher="torchrun", nproc=2),
                                       _metrics(0.7, 4000)))
    g = {x["label"]: x for x in build_report(parse_experiments(rows))["groups"]}
    assert g["config_5_joint_uniform [tiny] (train.processes=2)"]["seeds"] == [42]
    assert sorted(g["config_5_joint_uniform [tiny] (train.processes=1)"]["seeds"]) == [42, 1337, 2024]


def test_backbones_are_never_averaged_together(rows: list[dict], tmp_path: Path) -> None:
    """A tiny and a MiniLM row of one strategy (and ratio) are two rows, and the table names each backbone."""
    for i, seed in enumerate((42, 1337)):
        rows[1]["experiments"].append(_rev(f"mini-partial-s{seed}", _params("joint_partial", seed, "1", "minilm"),
                                           _metrics(0.79 + 0.01 * i, 1000)))
        rows[1]["experiments"].append(_rev(f"tiny-partial-s{seed}", _params("joint_partial", seed, "1", "tiny"),
                                           _metrics(0.55 + 0.01 * i, 1000)))
        rows[1]["experiments"].append(_rev(f"mini-ratio1-s{seed}", _params("joint_uniform", seed, "1", "minilm"),
                                           _metrics(0.77, 1000)))
    rep = write_study_report(rows=rows, out_dir=tmp_path / "metrics", plots_dir=tmp_path / "plots")
    g = {x["label"]: x for x in rep["groups"]}
    assert g["joint_partial [minilm] ratio=1"]["metrics"]["bc5cdr_f1"]["mean"] == pytest.approx(0.795)
    assert g["joint_partial [tiny] ratio=1"]["metrics"]["bc5cdr_f1"]["mean"] == pytest.approx(0.555)
    assert g["config_5_joint_uniform [minilm] ratio=1"]["seeds"] == [42, 1337]
    assert sorted(g["config_5_joint_uniform [tiny] ratio=1"]["seeds"]) == [42, 1337, 2024]
    md = (tmp_path / "metrics" / "aggregated_results.md").read_text()
    cells = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in md.splitlines()
             if line.startswith("| joint_partial")}
    assert cells == {"joint_partial [minilm] ratio=1": "minilm", "joint_partial [tiny] ratio=1": "tiny"}
    # the scaling curve stays one backbone's: tiny has three ratios, minilm one
    assert {p["backbone"] for p in rep["scaling"]} == {"tiny"} and len(rep["scaling"]) == 3


def _fake_dvc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_queue_status: str) -> Path:
    """Put a `dvc` on PATH that appends its arguments to the returned file and runs `on_queue_status` (sh) for
    `dvc queue status`."""
    import os

    calls = tmp_path / "calls.txt"
    fake = tmp_path / "bin" / "dvc"
    fake.parent.mkdir()
    fake.write_text(f"""#!/bin/sh
echo "$*" >> {calls}
if [ "$1 $2" = "queue status" ]; then
{on_queue_status}
fi
""")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    return calls


def test_grid_run_stops_the_workers_when_the_queue_is_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bioner grid --run` ends with `dvc queue stop`: DVC's idle workers otherwise linger for minutes."""
    from bioner.study.grid import start

    # `queue status` shows one finished experiment and an idle worker
    calls = _fake_dvc(tmp_path, monkeypatch,
                      "printf 'Task  Name  Created  Status\\nabc123  e1  10:00  Success\\n\\n"
                      "Worker status: 0 active, 1 idle\\n'")
    start(2, repo=tmp_path)
    assert calls.read_text().splitlines() == ["queue start -j 2", "queue status", "queue stop"]


def test_grid_run_restarts_workers_that_exit_with_experiments_queued(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """DVC's workers can exit with experiments still queued (a stale `dvc queue stop` in its broker, a broker read
    race): `bioner grid --run` starts them again when fewer than -j are alive, instead of waiting forever."""
    from bioner.study.grid import start

    # first `queue status`: one queued experiment, one of the two workers alive; after the restart: done
    n = tmp_path / "n"
    calls = _fake_dvc(tmp_path, monkeypatch, f"""\
  if [ -f {n} ]; then printf 'Task  Name  Created  Status\\nabc123  e1  10:00  Success\\n'
  else touch {n}
    printf 'Task  Name  Created  Status\\nabc123  e1  10:00  Queued\\n\\nWorker status: 1 active, 0 idle\\n'
  fi""")
    start(2, repo=tmp_path, poll_s=0.01, grace_s=0)
    assert calls.read_text().splitlines() == ["queue start -j 2", "queue status", "queue start -j 2", "queue status",
                                              "queue stop"]


@pytest.mark.parametrize("first_status", [
    # right after `queue start`: the workers have not registered yet
    "abc123  e1  10:00  Queued\\nabc124  e2  10:00  Queued\\n\\nWorker status: 0 active, 0 idle",
    # two experiments running (DVC's worker line can read 0 active meanwhile), one queued
    "abc123  e1  10:00  Running\\nabc124  e2  10:00  Running\\nabc125  e3  10:00  Queued\\n\\n"
    "Worker status: 0 active, 0 idle",
])
def test_grid_run_does_not_start_more_workers_than_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        first_status: str) -> None:
    """`make study-virus JOBS=2` once ran four experiments at once: workers not yet registered, or running while
    DVC listed 0 active, were taken for dead and started again."""
    from bioner.study.grid import start

    n = tmp_path / "n"
    grace = 0 if "Running" in first_status else 30
    calls = _fake_dvc(tmp_path, monkeypatch, f"""\
  if [ -f {n} ]; then printf 'Task  Name  Created  Status\\nabc123  e1  10:00  Success\\n'
  else touch {n}; printf 'Task  Name  Created  Status\\n{first_status}\\n'
  fi""")
    start(2, repo=tmp_path, poll_s=0.01, grace_s=grace)
    assert calls.read_text().splitlines() == ["queue start -j 2", "queue status", "queue status", "queue stop"]


def test_threads_shown_as_the_run_resolved_them(rows: list[dict]) -> None:
    # `auto` resolves per run (the idle cores when training starts): the table shows what each run used
    for r in rows[1]["experiments"]:
        m = r["revs"][0]["data"]["metrics"]["metrics/metrics.json"].get("data")
        if m and r["name"].startswith("cfg5-"):
            m["train_threads"] = 2 if r["name"] == "cfg5-s42" else 1
    rep = build_report(parse_experiments(rows))
    cfg5 = next(g for g in rep["groups"] if g["label"] == "config_5_joint_uniform [tiny]")
    assert cfg5["runtime"]["train.cpu_threads"] == ["1", "2"]
    row = next(ln for ln in markdown(rep).splitlines() if ln.startswith("| config_5_joint_uniform [tiny] |"))
    assert "| threads 1/2 |" in row
