"""The work dir keeps full Trainer checkpoints only while a run is unfinished (to resume it); a finished run
keeps its best weights and last trainer state (a re-run is a no-op), no optimizer state. The default work dir
beside `--output_dir` (`.models_work/`) is git-ignored."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest

from bioner.settings import settings as S
from bioner.training import run as training_run

ROOT = Path(__file__).resolve().parents[1]
TINY = {"vocab_size": 1000, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64}


def _settings(strategy: str) -> S.Settings:
    return S.from_dict({"strategy": strategy, "backbone": "tiny", "seed": 0, "silver": {"ratio": "1"},
                        "train": {"epochs": 1, "batch_size": 16, "max_length": 64, "phase2": {"epochs": 0.5}},
                        "tiny": TINY})


def _optimizer_states(work: Path) -> list[Path]:
    return sorted(work.rglob("checkpoint-*/optimizer.pt"))


@pytest.mark.parametrize("strategy", ["joint_uniform", "sequential"])
def test_a_finished_run_keeps_only_what_a_rerun_needs(strategy: str, tmp_path: Path,
                                                       small_sample_dir: Path) -> None:
    work = tmp_path / "work"
    s = _settings(strategy)
    training_run.train(s, tmp_path / "models", data_dir=small_sample_dir, silver_dir=None, work_dir=work)
    model_bytes = (tmp_path / "models" / "best_model" / "model.safetensors").stat().st_size
    files = [p for p in work.rglob("checkpoint-*/*") if p.is_file()]
    phases = 2 if strategy == "sequential" else 1
    assert sorted({p.name for p in files}) == ["model.safetensors", "trainer_state.json"], files
    assert len([p for p in files if p.name == "model.safetensors"]) == phases  # the best checkpoint's weights
    assert sum(p.stat().st_size for p in files) < 1.1 * phases * model_bytes  # no optimizer state, no spare
    # re-running the finished run trains nothing: it takes the kept best weights
    again = training_run.train(s, tmp_path / "again", data_dir=small_sample_dir, silver_dir=None, work_dir=work)
    assert again["phase1"]["process"]["steps"] == 0 and again["phase1"]["resumed_from"] is not None
    assert (tmp_path / "again" / "best_model" / "model.safetensors").read_bytes() == \
        (tmp_path / "models" / "best_model" / "model.safetensors").read_bytes()


def test_an_unfinished_run_keeps_its_checkpoints(tmp_path: Path, small_sample_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device (simulated)")

    monkeypatch.setattr(training_run, "save_model", full_disk)  # trained, but best_model cannot be written
    work = tmp_path / "work"
    with pytest.raises(OSError):
        training_run.train(_settings("joint_uniform"), tmp_path / "models", data_dir=small_sample_dir,
                       silver_dir=None, work_dir=work)
    assert _optimizer_states(work), list(work.rglob("*"))  # what the next run resumes from


def test_the_default_work_dir_is_git_ignored() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".models_work/abc/phase1/checkpoint-8"], cwd=ROOT)
    assert ignored.returncode == 0
