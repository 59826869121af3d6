"""Reliability: concurrent trainings, unwritable outputs, reruns of a finished training.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from reliability_helpers import (
    _count_training_steps,
    _fail_safetensors,
    _unshare_available,
    last_error_line,
    one_error_line,
    run_cli,
)

_GATED_TRAIN = """
import os, sys, time
from pathlib import Path
from transformers import TrainerCallback
import bioner.training.trainer as T

class Gate(TrainerCallback):
    # Test instrumentation only: hold the run after its first step while the gate file exists.
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 1:
            Path(os.environ["GATE"] + ".reached").write_text("1")
            while Path(os.environ["GATE"]).exists():
                time.sleep(0.05)

_init = T.WeightedTokenTrainer.__init__
def _patched(self, *a, **k):
    _init(self, *a, **k)
    self.add_callback(Gate())
T.WeightedTokenTrainer.__init__ = _patched

from bioner.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_concurrent_trainings_into_one_output_dir(sandbox: Path, trained: dict,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Two trainings into one --output_dir: the second is refused at once, naming the first (which finishes
    with a complete model); another process's temp model dir is never taken for stale."""
    import bioner.training.run
    from bioner.io.atomic_temps import HOST

    out = sandbox / "models"
    gate = sandbox / "gate"
    gate.write_text("closed")
    base = ["train", "--strategy", "single_source", "--backbone", str(trained["backbone"]), "--epochs", "1",
            "--data_dir", str(trained["raw"]), "--output_dir", str(out), "--silver_dir", str(sandbox / "none")]
    live_owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    busy = out / f".best_model.tmp-{HOST}-{live_owner.pid}-0a1b2c3d"  # a live process's model being saved
    busy.mkdir(parents=True)
    (busy / "config.json").write_text("{}")
    log_file = sandbox / "first.log"
    with open(log_file, "w") as log_fh:
        first = subprocess.Popen([sys.executable, "-c", _GATED_TRAIN, *base, "--seed", "1"], cwd=sandbox,
                                 env=dict(os.environ, GATE=str(gate)), stdout=log_fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not Path(f"{gate}.reached").exists():
            assert first.poll() is None and time.time() < deadline, log_file.read_text()[-3000:]
            time.sleep(0.05)

        def started(*_a: object, **_k: object) -> None:
            raise AssertionError("the second training read data although the output dir is taken")

        monkeypatch.setattr(bioner.training.run, "load_training_corpora", started)
        rc, _, err = run_cli(capsys, *base, "--seed", "2")
        assert rc == 2
        msg = one_error_line(err, "train")
        assert msg.startswith(f"bioner train: error: {out}: another training is writing this output directory "
                              f"(process {first.pid} on {HOST}, since "), msg
        assert "--seed 1" in msg and msg.endswith("); wait for it to finish or give another --output_dir")
        gate.unlink()
        assert first.wait(timeout=300) == 0, log_file.read_text()[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        live_owner.kill()
        live_owner.wait()
    assert json.loads((out / "best_model" / "bioner.json").read_text())["seed"] == 1
    assert busy.is_dir()  # its owner was alive: not "stale"
    assert sorted(p.name for p in out.iterdir()) == sorted(["best_model", "config_snapshot.yaml", busy.name])
    assert not (sandbox / ".models.lock").exists()  # released
    assert run_cli(capsys, "evaluate", "--checkpoint", out / "best_model", "--test_set", "test_bc5cdr",
                   "--data_dir", trained["raw"])[0] == 0


_READ_ONLY = 'mount --bind "$RO" "$RO" && mount -o remount,bind,ro "$RO" && exec "$@"'


@pytest.mark.parametrize("case", ["output_dir", "work_dir"])  # live_dir, a missing output dir: same check
def test_unwritable_outputs_fail_before_training(case: str, sandbox: Path, trained: dict) -> None:
    """A read-only --output_dir (or --work_dir, --live_dir, the directory a missing one would be made in) is
    reported before any data is read or any step trained, not after the whole training: one line naming the
    path, exit 2."""
    ro = sandbox / "ro"
    ro.mkdir()
    paths = {"output_dir": sandbox / "models", "work_dir": sandbox / "work", "live_dir": sandbox / "live"}
    if case == "output_dir":
        paths["output_dir"] = ro  # exists, read-only
    else:
        paths[case] = ro / case  # to be created in a read-only directory
    argv = ["train", "--strategy", "single_source", "--backbone", str(trained["backbone"]), "--epochs", "1",
            "--data_dir", str(trained["raw"]), "--silver_dir", str(sandbox / "none"),
            *[x for k, v in paths.items() for x in (f"--{k}", str(v))]]
    cmd = [sys.executable, "-m", "bioner.cli", *argv]
    if os.geteuid() != 0:
        ro.chmod(0o555)
    elif _unshare_available():
        cmd = ["unshare", "-rm", "sh", "-c", _READ_ONLY, "sh", *cmd]
    else:
        pytest.skip("root without user namespaces: no way to make a directory read-only")
    try:
        proc = subprocess.run(cmd, cwd=sandbox, env=dict(os.environ, RO=str(ro)), capture_output=True, text=True,
                              timeout=300)
    finally:
        ro.chmod(0o755)
    assert proc.returncode == 2, proc.stderr[-3000:]
    msg = last_error_line(proc.stderr, "train")
    assert msg.startswith(f"bioner train: error: {paths[case]}"), msg  # work_dir: <work_dir>/<fingerprint>
    assert ": cannot write it (" in msg and "Fix: choose a writable location" in msg
    for never in ("align train", "effective batch size", "validation F1"):  # no data read, nothing trained
        assert never not in proc.stderr
    assert sorted(p.name for p in sandbox.iterdir()) == ["params.yaml", "ro"]  # no models/, work/, live/


def test_failed_training_leaves_no_empty_output_dir(sandbox: Path, trained: dict,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A training that fails at the end (disk full while saving the model) leaves no empty output dir behind."""
    out = sandbox / "new" / "models"
    (sandbox / "new").mkdir()
    _fail_safetensors(monkeypatch, ".best_model.tmp")
    rc, _, err = run_cli(capsys, "train", "--strategy", "single_source", "--backbone", trained["backbone"],
                         "--epochs", "1", "--data_dir", trained["raw"], "--output_dir", out,
                         "--work_dir", sandbox / "work", "--silver_dir", sandbox / "none")
    assert rc == 2
    assert one_error_line(err, "train").startswith(f"bioner train: error: {out / 'best_model'}: cannot write it "
                                                   "(No space left on device); nothing was written")
    assert list((sandbox / "new").iterdir()) == []


def test_rerunning_a_finished_training_is_a_no_op(sandbox: Path, trained: dict, capsys: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The same `bioner train` again after it finished (fractional epochs: the last checkpoint is mid-epoch):
    no optimizer step, the same step count, loss and model (not one more step per rerun)."""
    out = sandbox / "models"
    argv = ["train", "--strategy", "single_source", "--backbone", trained["backbone"], "--epochs", "1.5",
            "--data_dir", trained["raw"], "--output_dir", out, "--work_dir", sandbox / "work",
            "--silver_dir", sandbox / "none"]
    assert run_cli(capsys, *argv)[0] == 0
    first = yaml.safe_load((out / "config_snapshot.yaml").read_text())["run"]["phase1"]
    weights = (out / "best_model" / "model.safetensors").read_bytes()
    assert first["steps"] == 12 and first["process"]["steps"] == 12  # 8 steps per epoch x 1.5

    steps = _count_training_steps(monkeypatch)
    caplog.set_level(logging.INFO)
    for _ in range(2):
        assert run_cli(capsys, *argv)[0] == 0
        again = yaml.safe_load((out / "config_snapshot.yaml").read_text())["run"]["phase1"]
        assert steps == [] and again["steps"] == 12 and again["process"]["steps"] == 0
        assert again["train_loss"] == pytest.approx(first["train_loss"], rel=1e-5)
        assert again["best_validation_f1"] == first["best_validation_f1"]
        assert (out / "best_model" / "model.safetensors").read_bytes() == weights
    assert any(m.endswith(": nothing to train; train loss " + f"{again['train_loss']:.4f}")
               and "the run already finished at step 12" in m for m in caplog.messages), caplog.messages
