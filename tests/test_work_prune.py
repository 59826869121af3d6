"""The work dir keeps Trainer checkpoints only while a run is unfinished (to resume it); a finished run's are
removed. The default work dir beside `--output_dir` (`.models_work/`) is git-ignored."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest

from bioner import settings as S
from bioner import training

ROOT = Path(__file__).resolve().parents[1]
TINY = {"vocab_size": 1000, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64}


def _settings(strategy: str) -> S.Settings:
    return S.from_dict({"strategy": strategy, "backbone": "tiny", "seed": 0, "silver": {"ratio": "1"},
                        "train": {"epochs": 1, "batch_size": 16, "max_length": 64, "phase2": {"epochs": 0.5}},
                        "tiny": TINY})


def _checkpoints(work: Path) -> list[Path]:
    return sorted(work.rglob("checkpoint-*"))


@pytest.mark.parametrize("strategy", ["joint_uniform", "sequential"])
def test_a_finished_run_leaves_no_checkpoints(strategy: str, tmp_path: Path, small_sample_dir: Path) -> None:
    work = tmp_path / "work"
    training.train(_settings(strategy), tmp_path / "models", data_dir=small_sample_dir, silver_dir=None,
                   work_dir=work)
    assert (tmp_path / "models" / "best_model" / "model.safetensors").is_file()
    assert _checkpoints(work) == [] and not any(p.is_file() for p in work.rglob("*")), list(work.rglob("*"))


def test_an_unfinished_run_keeps_its_checkpoints(tmp_path: Path, small_sample_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device (simulated)")

    monkeypatch.setattr(training.run, "save_model", full_disk)  # trained, but best_model cannot be written
    work = tmp_path / "work"
    with pytest.raises(OSError):
        training.train(_settings("joint_uniform"), tmp_path / "models", data_dir=small_sample_dir,
                       silver_dir=None, work_dir=work)
    assert _checkpoints(work), list(work.rglob("*"))  # what the next run resumes from


def test_the_default_work_dir_is_git_ignored() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".models_work/abc/phase1/checkpoint-8"], cwd=ROOT)
    assert ignored.returncode == 0
