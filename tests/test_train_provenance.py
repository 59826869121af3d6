"""`bioner train --data_dir X --silver_dir Y` records where its data came from: config_snapshot.yaml's
`run.inputs` and the model card name both; bioner.json never points into the deletable work dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bioner.cli.pipeline import main
from bioner.tagging.model_card import model_card

TINY_FLAGS = ["-s", "tiny.hidden_size=32", "-s", "tiny.intermediate_size=64", "-s", "tiny.num_layers=1",
              "-s", "tiny.vocab_size=1000", "-s", "train.max_length=64"]


def test_train_records_its_data_and_silver_dirs(tmp_path: Path, small_sample_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    silver = tmp_path / "my_silver"
    assert main(["silver", "--data_dir", str(small_sample_dir), "--out", str(silver)]) == 0
    out, work = tmp_path / "models", tmp_path / "work"
    rc = main(["train", "--strategy", "joint_uniform", "--backbone", "tiny", "--epochs", "0.2", "--ratio", "1",
               "--data_dir", str(small_sample_dir), "--silver_dir", str(silver), "--output_dir", str(out),
               "--work_dir", str(work), *TINY_FLAGS])
    assert rc == 0
    snap = yaml.safe_load((out / "config_snapshot.yaml").read_text())
    assert snap["run"]["inputs"] == {"data_dir": str(small_sample_dir), "silver_dir": str(silver),
                                     "silver_file": str(silver / "silver_1.jsonl")}
    meta = json.loads((out / "best_model" / "bioner.json").read_text())
    assert meta["model_id"] == "tiny" and str(work) not in json.dumps(meta)
    labels = json.loads((out / "best_model" / "config.json").read_text())["id2label"].values()
    card = model_card("someone/model", list(labels), snap, None)
    assert f"from `--data_dir {small_sample_dir}`, silver from `{silver / 'silver_1.jsonl'}`" in card
