"""bioner.study.reproduction: a re-run's metrics against the committed ones, to the last digit, with the env diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.study.reproduction import check, main

METRICS = {"bc5cdr_f1": 0.7955, "pubmed_f1": 0.8202, "train_threads": 1, "train_wall_s": 14.6,
           "env_hash": "82a692eb7de7"}
ENV = {"env_hash": "82a692eb7de7",
       "numerics": {"python": "3.11.7", "packages": {"torch": "2.13.0+cpu", "transformers": "5.25.0"},
                    "torch_threads": 1, "cpu": "Intel(R) Xeon(R) Processor", "cpu_capability": "AVX512",
                    "gpu": None, "precision": "fp32"},
       "lock": {"sha256": "ab", "deviations": {}}, "data": {"md5": {"data/raw": "aa.dir"}}}


def _run(d: Path, metrics: dict, env: dict | None) -> Path:
    d.mkdir()
    (d / "metrics.json").write_text(json.dumps(metrics))
    if env is not None:
        (d / "environment.json").write_text(json.dumps(env))
    return d


def _env(**numerics: object) -> dict:
    return {**ENV, "numerics": {**ENV["numerics"], **numerics}}


def test_identical_metrics_reproduce_whatever_the_timing(tmp_path: Path) -> None:
    old = _run(tmp_path / "old", METRICS, ENV)
    new = _run(tmp_path / "new", {**METRICS, "train_wall_s": 20.1}, ENV)
    passed, lines = check(old, new)
    assert passed and lines[0].startswith("REPRODUCED") and "environment: identical record" in lines


def test_a_last_digit_difference_fails_and_names_the_metric_and_the_env_fields(tmp_path: Path) -> None:
    old = _run(tmp_path / "old", METRICS, ENV)
    new = _run(tmp_path / "new", {**METRICS, "bc5cdr_f1": 0.7956, "env_hash": "ffffffffffff"},
               _env(packages={"torch": "2.13.0+cpu", "transformers": "5.24.0"}))
    passed, lines = check(old, new)
    text = "\n".join(lines)
    assert not passed and lines[0].startswith("NOT REPRODUCED: 1 metric")
    assert "bc5cdr_f1: committed 0.7955, now 0.7956" in text
    assert "numerics.packages.transformers: '5.25.0' -> '5.24.0'" in text


def test_a_metric_missing_from_the_rerun_fails(tmp_path: Path) -> None:
    old = _run(tmp_path / "old", METRICS, ENV)
    new = _run(tmp_path / "new", {k: v for k, v in METRICS.items() if k != "pubmed_f1"}, ENV)
    passed, lines = check(old, new)
    assert not passed and "pubmed_f1: committed 0.8202, now None" in "\n".join(lines)


def test_hardware_may_differ_passes_only_a_cpu_change(tmp_path: Path) -> None:
    old = _run(tmp_path / "old", METRICS, ENV)
    other_cpu = _run(tmp_path / "cpu", {**METRICS, "bc5cdr_f1": 0.8047}, _env(cpu="AMD EPYC", cpu_capability="AVX2"))
    assert not check(old, other_cpu)[0]
    passed, lines = check(old, other_cpu, hardware_may_differ=True)
    assert passed and "only the hardware differs" in lines[-1]
    threads = _run(tmp_path / "threads", {**METRICS, "bc5cdr_f1": 0.8047}, _env(cpu="AMD EPYC", torch_threads=2))
    assert not check(old, threads, hardware_may_differ=True)[0]  # threads are not hardware
    same_env = _run(tmp_path / "same", {**METRICS, "bc5cdr_f1": 0.8047}, ENV)
    assert not check(old, same_env, hardware_may_differ=True)[0]  # same environment, other numbers


def test_a_committed_run_without_an_environment_record_still_compares(tmp_path: Path) -> None:
    old = _run(tmp_path / "old", {k: v for k, v in METRICS.items() if k != "env_hash"}, None)
    new = _run(tmp_path / "new", METRICS, ENV)
    passed, lines = check(old, new)
    assert passed and any("no environment.json" in x for x in lines)


def test_main_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _run(tmp_path / "old", METRICS, ENV)
    assert main(["--committed", str(old), "--new", str(old)]) == 0
    bad = _run(tmp_path / "bad", {**METRICS, "pubmed_f1": 0.1}, ENV)
    assert main(["--committed", str(old), "--new", str(bad)]) == 1
    assert "pubmed_f1" in capsys.readouterr().out
    assert main(["--committed", str(old), "--new", str(tmp_path / "nowhere")]) == 2
    assert "metrics.json: not found" in capsys.readouterr().err


def _lock(d: Path, raw: str, model: str = "m1.dir") -> None:
    import yaml

    (d / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": {
        "fetch": {"outs": [{"path": "data/raw", "md5": raw}]},
        "train": {"outs": [{"path": "models", "md5": "changes-with-timings.dir"}]},
        "evaluate": {"deps": [{"path": "models/best_model", "md5": model}]}}}))


def test_data_is_compared_by_the_md5_dvc_recorded(tmp_path: Path) -> None:
    old = _run(tmp_path / "old", METRICS, ENV)
    _lock(old, "aa.dir")
    same = _run(tmp_path / "same", METRICS, ENV)
    _lock(same, "aa.dir", model="m2.dir")  # the model dir names a code-keyed work dir: not compared
    passed, lines = check(old, same)
    assert passed and any(x.startswith("contents: byte-identical data/raw") for x in lines)
    other = _run(tmp_path / "other", METRICS, ENV)
    _lock(other, "bb.dir")
    passed, lines = check(old, other)
    assert not passed and lines[0] == "NOT REPRODUCED: every metric identical, but DVC-tracked contents differ"
    assert "  data/raw: aa.dir -> bb.dir" in lines
