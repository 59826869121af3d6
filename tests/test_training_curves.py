"""`bioner train --live_dir D` also draws the training curves as D/curves.png (offline: matplotlib, no CDN)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bioner.cli.pipeline import main
from bioner.training.curves import write_curves

TINY_FLAGS = ["-s", "tiny.hidden_size=32", "-s", "tiny.intermediate_size=64", "-s", "tiny.num_layers=1",
              "-s", "tiny.vocab_size=1000", "-s", "train.max_length=64"]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_train_writes_the_curves_png(tmp_path: Path, small_sample_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    live = tmp_path / "live"
    rc = main(["train", "--strategy", "joint_uniform", "--backbone", "tiny", "--epochs", "1", "--ratio", "1",
               "--data_dir", str(small_sample_dir), "--output_dir", str(tmp_path / "models"),
               "--work_dir", str(tmp_path / "work"), "--live_dir", str(live), *TINY_FLAGS])
    assert rc == 0
    assert (live / "plots" / "metrics" / "eval" / "f1_Gene.tsv").is_file()
    assert _png_size(live / "curves.png") == (1000, 650)


def test_no_curves_without_logged_steps(tmp_path: Path) -> None:
    assert write_curves(tmp_path) is None and not (tmp_path / "curves.png").exists()
