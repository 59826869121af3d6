"""Fixtures of the reliability tests, shared by test_reliability_*.py (registered in conftest.py): one real
training and what is derived from it, made once per session."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from bioner.cli.pipeline import main
from bioner.settings.labels import DATA_FILES
from reliability_helpers import copy_data, write_full_params


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory holding a complete params.yaml (the CLI reads ./params.yaml)."""
    monkeypatch.chdir(tmp_path)
    write_full_params(tmp_path / "params.yaml")
    return tmp_path


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, small_sample_dir: Path, tiny_backbone: Path) -> dict:
    """One real `bioner train` (single_source, 1 epoch) on a copy of the small sample whose train file holds an
    I- tag without B- and an empty sentence: the model for the evaluate/predict/pickle/atomic cases."""
    root = tmp_path_factory.mktemp("trained")
    raw = copy_data(small_sample_dir, root / "raw")
    train_file = raw / DATA_FILES["train"]
    lines = train_file.read_text(encoding="utf-8").splitlines(keepends=True)
    rec = json.loads(lines[0])
    first = next(i for i, t in enumerate(rec["decoded_tags"]) if t.startswith("B-"))
    for field in ("decoded_tags", "decoded_tags_pseudo_final"):
        rec[field][first] = "I-" + rec[field][first][2:]  # I-X without B-X: repaired to B-X and counted
    lines[0] = json.dumps(rec) + "\n"
    lines.insert(5, json.dumps({"tokens": [], "decoded_tags": [], "decoded_tags_pseudo_final": []}) + "\n")
    train_file.write_text("".join(lines), encoding="utf-8")
    write_full_params(root / "params.yaml")

    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda r: records.append(r.getMessage())  # type: ignore[method-assign]
    logging.getLogger("bioner").addHandler(handler)
    try:
        rc = main(["train", "--params", str(root / "params.yaml"), "--strategy", "single_source",
                   "--backbone", str(tiny_backbone), "--epochs", "1", "--data_dir", str(raw),
                   "--output_dir", str(root / "models"), "--work_dir", str(root / "work"),
                   "--silver_dir", str(root / "none")])
    finally:
        logging.getLogger("bioner").removeHandler(handler)
    assert rc == 0
    return {"root": root, "raw": raw, "models": root / "models", "model": root / "models" / "best_model",
            "log": "\n".join(records), "backbone": tiny_backbone}


@pytest.fixture(scope="session")
def pickle_model(trained: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained model re-saved with only pickle weights (pytorch_model.bin), as old checkpoints are."""
    import torch
    from safetensors.torch import load_file

    d = tmp_path_factory.mktemp("pickle") / "best_model"
    shutil.copytree(trained["model"], d)
    torch.save(load_file(str(d / "model.safetensors")), d / "pytorch_model.bin")
    (d / "model.safetensors").unlink()
    return d


@pytest.fixture(scope="session")
def evals(trained: dict) -> Path:
    """eval/<test set>.json of the trained model, as the evaluate stage writes them."""
    metrics = trained["root"] / "metrics"
    for ts in ("bc5cdr", "pubmed"):
        assert main(["evaluate", "--checkpoint", str(trained["model"]), "--test_set", ts,
                     "--data_dir", str(trained["raw"]), "--output", str(metrics / "eval" / f"{ts}.json")]) == 0
    return metrics
