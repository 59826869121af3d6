"""The benchmark scripts run end to end on the sample and their correctness checks hold.

Not timed tests (the figures on a shared CI machine mean nothing): they guard the scripts against API drift and
check what the scripts themselves check, e.g. that the project's encoding equals the per-sentence baseline's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str, tmp_path: Path) -> dict:
    out = tmp_path / f"{script}.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "BIONER_REAL_DATA": str(tmp_path / "none")}
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args, "--max_load", "1000",
                        "--json", str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.slow
def test_bench_data_encodings_agree(tmp_path: Path) -> None:
    res = _run("bench_data.py", "--data", "sample", "--backbones", "tiny", "--repeat", "1", tmp_path=tmp_path)
    (row,) = res["rows"]
    assert row["sentences"] > 1000 and row["rows_differing"] == 0
    assert row["encode_s"] > 0 and row["per_sentence_loop_s"] > 0
    assert res["machine"]["torch_threads"] == 1


@pytest.mark.slow
def test_bench_train_measures_both_setups(tmp_path: Path) -> None:
    res = _run("bench_train.py", "--data", "sample", "--rows", "tiny", "--steps", "tiny=4", "--no_pad512",
               tmp_path=tmp_path)
    ours, seed = res["rows"]
    assert ours["setup"].startswith("ours") and seed["setup"].startswith("seed")
    assert ours["steps_timed"] == seed["steps_timed"] == 4
    # length grouping must cut padding: the sampler's epoch-wide waste is far below random order's
    assert ours["pad_waste_epoch_%"] < seed["pad_waste_epoch_%"] / 2
    # the reported speed-up is the ratio of the two measured throughputs, not a constant
    assert ours["speedup_vs_seed"] == round(ours["real_tokens_per_s"] / seed["real_tokens_per_s"], 2)


@pytest.mark.slow
def test_bench_distant_matchers_agree(tmp_path: Path) -> None:
    from bioner.data.sample import write_sample_corpus

    data = tmp_path / "data"
    write_sample_corpus(data, seed=0, sizes={"train": 20, "validation": 5, "test_bc5cdr": 5, "silver": 300,
                                             "test_pubmed": 5})
    res = _run("bench_distant.py", "--data", str(data), "--rows", "agreement,speed,memory", "--names", "3000",
               "--repeat", "1", tmp_path=tmp_path)
    sp = res["speed"]
    assert sp["sentences"] == 300 and sp["spans"] > 0 and sp["sentences_differing"] == 0  # trie == per-name scan
    rows = {r["type"]: r for r in res["agreement"]["rows"]}
    assert rows["Gene"]["relabelled_spans"] >= rows["Gene"]["identical"] > 0
    big = res["memory"][-1]
    assert big["rc"] == 0 and big["names"] >= 3000 and big["peak_rss_mib"] > 0


@pytest.mark.slow  # trains a model and runs the predict benchmark in subprocesses
def test_bench_predict_fp32_int8_pipeline(tmp_path: Path, small_sample_dir: Path, tiny_backbone: Path) -> None:
    from bioner.settings import settings as S
    from bioner.training.run import train

    s = S.from_dict({"strategy": "joint_uniform", "backbone": str(tiny_backbone), "seed": 0,
                     "train": {"epochs": 2, "learning_rate": 5e-3}})
    train(s, tmp_path / "models", data_dir=small_sample_dir, silver_dir=None, work_dir=tmp_path / "work")
    res = _run("bench_predict.py", "--checkpoint", str(tmp_path / "models" / "best_model"), "--data_dir",
               str(small_sample_dir), "--sentences", "20", "--rounds", "1", "--threads", "1", tmp_path=tmp_path)
    # exit 0: fp32 and the pipeline gave the same spans on every sentence
    rows = {r["arm"]: r for r in res["rows"]}
    assert set(rows) == {"fp32", "int8", "pipeline"} and res["sentences"] == 20
    assert rows["fp32"]["bc5cdr"]["sentences"] == 40 and rows["fp32"]["bc5cdr"]["f1"] > 0
    assert abs(rows["int8"]["bc5cdr"]["f1"] - rows["fp32"]["bc5cdr"]["f1"]) < 0.05
    assert all(r["peak_rss_mib"] > 100 and r["sentences_per_s"] > 0 for r in rows.values())
    assert rows["fp32"]["x_fp32"] == 1.0 and rows["pipeline"]["x_pipeline"] == 1.0


@pytest.mark.slow
def test_bench_threads_runs_every_cell(tmp_path: Path) -> None:
    res = _run("bench_threads.py", "--epochs", "0.02", "--busy", "1", "--wait_s", "0", tmp_path=tmp_path)
    cores = len(os.sched_getaffinity(0))
    assert [r["setting"] for r in res["rows"]] == [str(cores), "1", "auto"]
    assert all(r["wall_s"] > 0 and r["steps"] > 0 for r in res["rows"])
    # with one other process spinning, auto leaves its core alone
    assert res["rows"][2]["threads_used"] <= max(1, cores - 1) and res["rows"][1]["threads_used"] == 1
    (summary,) = res["summary"]
    assert summary["other busy processes"] == 1 and summary["default / best"] >= 1.0
