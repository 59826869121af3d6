"""bioner.training.environment: the record every experiment writes beside its metrics, and its short env_hash."""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from bioner.study.run_metrics import flat_metrics, write_run_metrics
from bioner.training import environment


def test_numerics_names_what_decides_the_numbers() -> None:
    import torch

    n = environment.numerics(threads=1, precision="fp32")
    assert n["packages"]["torch"] == torch.__version__ == metadata.version("torch")
    assert set(n["packages"]) >= {"torch", "transformers", "tokenizers", "numpy", "datasets"}
    assert all(n["packages"][p] == metadata.version(p) for p in ("transformers", "tokenizers", "numpy"))
    assert n["python"].count(".") == 2 and n["torch_threads"] == 1 and n["precision"] == "fp32"
    assert n["cpu"] and n["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert n["gpu"] is None and n["tf32"] is None  # no CUDA in the tests


@pytest.mark.parametrize(("knobs", "name"), [({"bf16": True, "fp16": False}, "bf16"),
                                             ({"bf16": False, "fp16": True}, "fp16"),
                                             ({"bf16": False, "fp16": False}, "fp32")])
def test_precision_name(knobs: dict, name: str) -> None:
    assert environment.precision_name(knobs) == name


def test_env_hash_is_stable_and_changes_with_any_numerics_field() -> None:
    n = environment.numerics(threads=1, precision="fp32")
    h = environment.env_hash(n)
    assert len(h) == environment.ENV_HASH_CHARS and h == environment.env_hash(json.loads(json.dumps(n)))
    assert environment.env_hash(dict(reversed(list(n.items())))) == h  # key order does not matter
    changed = [
        {**n, "torch_threads": 2},
        {**n, "packages": {**n["packages"], "transformers": "0.0.1"}},
        {**n, "cpu": "another CPU"},
        {**n, "precision": "bf16"},
        {**n, "python": "3.12.0"},
    ]
    hashes = {environment.env_hash(c) for c in changed}
    assert h not in hashes and len(hashes) == len(changed)


def test_lock_state_hashes_the_file_and_lists_what_is_installed_otherwise(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    numpy = metadata.version("numpy")
    lock.write_text(f"# comment\nnumpy=={numpy} \\\n    --hash=sha256:00\nPyYAML==0.0.1 \\\n    --hash=sha256:11\n"
                    "not-a-package-installed-here==1.0\n")
    state = environment.lock_state(lock)
    assert state["sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert state["deviations"] == {"pyyaml": {"locked": "0.0.1", "installed": metadata.version("pyyaml")},
                                   "not-a-package-installed-here": {"locked": "1.0", "installed": None}}
    assert environment.lock_state(tmp_path / "missing.lock") == {"file": str(tmp_path / "missing.lock"),
                                                                 "sha256": None, "deviations": None}


def test_data_hashes_come_from_dvc_lock_outs_under_data(tmp_path: Path) -> None:
    dvc_lock = tmp_path / "dvc.lock"
    dvc_lock.write_text(yaml.safe_dump({"schema": "2.0", "stages": {
        "fetch": {"outs": [{"path": "data/raw", "hash": "md5", "md5": "aa.dir"}]},
        "silver": {"outs": [{"path": "data/silver", "hash": "md5", "md5": "bb.dir"}]},
        "train": {"outs": [{"path": "models", "hash": "md5", "md5": "cc.dir"}]}}}))
    assert environment.data_hashes(dvc_lock) == {"source": str(dvc_lock),
                                                 "md5": {"data/raw": "aa.dir", "data/silver": "bb.dir"}}
    assert environment.data_hashes(tmp_path / "none.lock") == {"source": None, "md5": {}}


def _snapshot(env: dict | None) -> dict:
    run = {"data": {"gold_sentences": 10, "silver_sentences": 20}, "phase1": {"best_validation_f1": 0.5}}
    if env is not None:
        run["environment"] = env
        run["lock"] = {"file": "requirements.lock", "sha256": "ab" * 32, "deviations": {}}
    return {"strategy": "joint_uniform", "backbone": "tiny", "seed": 1, "silver": {"ratio": "full"}, "run": run}


def _evals() -> dict:
    row = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 10}
    return {"bc5cdr": {"micro": row, "per_entity": {"Chemical": row}},
            "pubmed": {"micro": row, "per_entity": {"Virus": row}}}


def test_metrics_json_carries_the_env_hash_only_when_the_run_recorded_its_environment() -> None:
    n = environment.numerics(threads=1, precision="fp32")
    assert flat_metrics(_evals(), _snapshot(n))["env_hash"] == environment.env_hash(n)
    assert "env_hash" not in flat_metrics(_evals(), _snapshot(None))


def test_aggregate_writes_environment_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("dvc.lock").write_text(yaml.safe_dump({"stages": {"fetch": {"outs": [{"path": "data/raw",
                                                                                "md5": "aa.dir"}]}}}))
    n = environment.numerics(threads=1, precision="fp32")
    Path("models").mkdir()
    Path("models/config_snapshot.yaml").write_text(yaml.safe_dump(_snapshot(n)))
    Path("metrics").mkdir()
    for name, res in _evals().items():
        Path("metrics/eval").mkdir(parents=True, exist_ok=True)
        Path(f"metrics/eval/{name}.json").write_text(json.dumps(res))
    metrics = write_run_metrics("models", "metrics", "plots")
    rec = json.loads(Path("metrics/environment.json").read_text())
    assert rec["env_hash"] == metrics["env_hash"] == environment.env_hash(n)
    assert rec["numerics"] == n and rec["lock"]["sha256"] == "ab" * 32
    assert rec["data"] == {"source": "dvc.lock", "md5": {"data/raw": "aa.dir"}}
    assert json.loads(Path("metrics/metrics.json").read_text())["env_hash"] == rec["env_hash"]
