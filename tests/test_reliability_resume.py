"""Reliability: interrupted training: kill -9 mid-epoch, then the run resumes to the same model.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES
from reliability_helpers import TINY_SETS, _count_training_steps, copy_data, run_cli, sigkill_when

pytestmark = pytest.mark.slow  # trainings killed and resumed in subprocesses

_STALLING_TRAIN = """
import os, sys, time
from pathlib import Path
from transformers import TrainerCallback
import bioner.training.trainer as T

class Stall(TrainerCallback):
    # Test instrumentation only: hold the run mid-epoch so the kill lands there deterministically.
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == int(os.environ["STALL_AT_STEP"]):
            Path(os.environ["STALL_MARKER"]).write_text(str(state.global_step))
            time.sleep(600)

_init = T.WeightedTokenTrainer.__init__
def _patched(self, *a, **k):
    _init(self, *a, **k)
    self.add_callback(Stall())
T.WeightedTokenTrainer.__init__ = _patched

from bioner.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_9_mid_epoch_then_resume(sandbox: Path, small_sample_dir: Path, capsys: pytest.CaptureFixture[str],
                                      caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 in epoch 2 -> no model in models/; the same command resumes from checkpoint-8 (16 more steps,
    not 24); an incomplete newer checkpoint is discarded; a changed setting starts a fresh run."""
    raw = copy_data(small_sample_dir, sandbox / "raw")
    out, work = sandbox / "models", sandbox / "work"
    # 120 sentences / batch 16 = 8 steps per epoch; 3 epochs = 24 steps; a checkpoint each epoch
    argv = ["train", "--params", str(sandbox / "params.yaml"), "--strategy", "single_source", "--backbone", "tiny",
            "--epochs", "3", "--batch_size", "16", "--data_dir", str(raw), "--output_dir", str(out),
            "--work_dir", str(work), "--silver_dir", str(sandbox / "silver"), *TINY_SETS]
    marker = sandbox / "stalled"
    env = dict(os.environ, STALL_AT_STEP="12", STALL_MARKER=str(marker), OMP_NUM_THREADS="1")
    log_file = sandbox / "killed_run.log"
    with open(log_file, "w") as log_fh:  # a file, not a pipe: a full pipe would block the child
        proc = subprocess.Popen([sys.executable, "-c", _STALLING_TRAIN, *argv], cwd=sandbox, env=env,
                                stdout=log_fh, stderr=subprocess.STDOUT)
    sigkill_when(proc, marker.exists, "training never reached step 12", log_file)
    assert proc.returncode == -signal.SIGKILL

    (run_dir,) = list(work.iterdir())  # work/<fingerprint>
    phase1 = run_dir / "phase1"
    assert sorted(p.name for p in phase1.glob("checkpoint-*")) == ["checkpoint-8"]
    assert json.loads((phase1 / "checkpoint-8" / "trainer_state.json").read_text())["global_step"] == 8
    assert not (out / "best_model").exists() and not (out / "config_snapshot.yaml").exists()
    # what a kill during a later save would leave: a half-written checkpoint and a half-written model dir
    (phase1 / "checkpoint-16").mkdir()
    (phase1 / "checkpoint-16" / "model.safetensors").write_bytes(b"\0" * 100)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    from bioner.io.atomic_temps import HOST

    stale = out / f".best_model.tmp-{HOST}-{int(gone.stdout)}-0a1b2c3d"  # its owner has exited
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"\0" * 100)

    # a changed setting (seed) must not resume the stale run: fresh fingerprint, all 24 steps
    steps = _count_training_steps(monkeypatch)
    caplog.set_level(logging.INFO)
    seed_argv = [*argv, "--seed", "7"]
    seed_argv[seed_argv.index("--output_dir") + 1] = str(sandbox / "models_seed7")
    rc, _, err = run_cli(capsys, *seed_argv)
    assert rc == 0, err
    assert len(steps) == 24 and not any("resuming from" in m for m in caplog.messages)
    assert len(list(work.iterdir())) == 2 and (phase1 / "checkpoint-8").is_dir()

    # the same command again resumes from the last complete checkpoint
    steps.clear()
    caplog.clear()
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 0, err
    assert f"removing incomplete checkpoint {phase1 / 'checkpoint-16'} (interrupted while it was written)" \
        in caplog.messages
    assert f"resuming from {phase1 / 'checkpoint-8'}" in caplog.messages
    assert len(steps) == 16  # steps 9..24 only, not from scratch
    snap = yaml.safe_load((out / "config_snapshot.yaml").read_text())
    assert snap["run"]["phase1"]["resumed_from"] == str(phase1 / "checkpoint-8")
    assert snap["run"]["phase1"]["steps"] == 24
    # what this process did, and what the run did (this process ran 16 of the run's 24 steps)
    assert snap["run"]["phase1"]["process"]["steps"] == 16
    assert any(m.startswith("this process trained steps 9-24 (16 steps) in ") and "; the run: 24 steps, train loss "
               in m for m in caplog.messages), caplog.messages
    # the run's train loss and model equal an uninterrupted run's (not the loss of the resumed steps only)
    ref_argv = [*argv]
    ref_argv[ref_argv.index("--output_dir") + 1] = str(sandbox / "models_ref")
    ref_argv[ref_argv.index("--work_dir") + 1] = str(sandbox / "work_ref")
    assert run_cli(capsys, *ref_argv)[0] == 0
    ref = yaml.safe_load((sandbox / "models_ref" / "config_snapshot.yaml").read_text())["run"]["phase1"]
    assert ref["steps"] == 24 and ref["process"]["steps"] == 24
    assert snap["run"]["phase1"]["train_loss"] == pytest.approx(ref["train_loss"], rel=1e-5)
    assert snap["run"]["phase1"]["process"]["train_loss"] != pytest.approx(ref["train_loss"], rel=1e-3)
    assert (out / "best_model" / "model.safetensors").read_bytes() == \
        (sandbox / "models_ref" / "best_model" / "model.safetensors").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["best_model", "config_snapshot.yaml"]  # debris removed
    assert {"config.json", "model.safetensors", "tokenizer.json", "bioner.json"} <= {
        p.name for p in (out / "best_model").iterdir()}
    rc, _, err = run_cli(capsys, "evaluate", "--checkpoint", out / "best_model", "--test_set", "test_bc5cdr",
                         "--data_dir", raw)
    assert rc == 0, err


def test_resume_key_tracks_data_content_not_mtime(tmp_path: Path, small_sample_dir: Path) -> None:
    """The work dir is keyed by settings + data contents: `dvc checkout` rewriting identical files still
    resumes; an edited data file or setting never resumes the stale run."""
    from bioner.training.runtime import run_fingerprint

    raw = copy_data(small_sample_dir, tmp_path / "raw")
    s = S.from_dict({"strategy": "single_source"})
    fp = run_fingerprint(s, raw)
    train_file = raw / DATA_FILES["train"]
    os.utime(train_file, (1, 1))
    assert run_fingerprint(s, raw) == fp
    train_file.write_bytes(train_file.read_bytes().replace(b'"B-Chemical"', b'"O"', 1))
    assert run_fingerprint(s, raw) != fp
    assert run_fingerprint(S.from_dict({"strategy": "single_source", "seed": 1}), small_sample_dir) != \
        run_fingerprint(S.from_dict({"strategy": "single_source"}), small_sample_dir)
