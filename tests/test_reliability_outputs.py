"""Reliability: outputs: umask modes, a really full disk, stale temps of killed runs.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bioner.settings.labels import DATA_FILES
from reliability_helpers import _stage_argv, _unshare_available, files_under, last_error_line, run_cli, sigkill_when


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize(("command", "target"), [
    ("evaluate", "eval_test_bc5cdr.json"), ("predict", "predictions.jsonl"), ("silver", "silver_1.jsonl"),
    ("aggregate", "config_snapshot.yaml"), ("fetch", "raw"), ("train", "best_model")])
def test_outputs_get_umask_modes_and_keep_an_existing_mode(command: str, target: str, sandbox: Path, trained: dict,
                                                          evals: Path, umask_027: None,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """New outputs get the mode a plain open()/mkdir() gives (umask 027: files 0640, dirs 0750), never 0600;
    rewriting an output keeps the mode it has."""
    out = sandbox / "out"
    argv = _stage_argv(command, sandbox, trained, evals)
    if command == "train":  # the copied previous outputs carry the copier's modes: start from nothing
        shutil.rmtree(out)
    elif command == "aggregate":
        for p in out.rglob("*"):
            p.chmod(0o750 if p.is_dir() else 0o640)
    assert run_cli(capsys, *argv)[0] == 0
    modes = _modes(out)
    written = {k: m for k, m in modes.items() if not k.startswith("metrics/eval_")}  # aggregate's inputs
    assert written and all(m == (0o750 if (out / k).is_dir() else 0o640) for k, m in written.items()), written

    (target_path,) = list(out.rglob(target))
    kept = 0o705 if target_path.is_dir() else 0o604
    target_path.chmod(kept)
    assert run_cli(capsys, *argv)[0] == 0
    assert target_path.stat().st_mode & 0o777 == kept


def test_stale_temp_of_a_killed_predict_is_removed_by_the_next_run(sandbox: Path, trained: dict,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """kill -9 while predict writes: its temp file stays (the output is intact); the next predict to the same
    output removes it and says so. A temp of a live process (another predict writing right now) or of another
    host is never removed."""
    big = sandbox / "big.jsonl"
    rows = (trained["raw"] / DATA_FILES["test_bc5cdr"]).read_text(encoding="utf-8")
    big.write_text(rows * 400, encoding="utf-8")  # 16k sentences: tagging takes a while
    output = sandbox / "out" / "predictions.jsonl"
    argv = ["predict", "--checkpoint", str(trained["model"]), "--input", str(big), "--output", str(output)]
    proc = subprocess.Popen([sys.executable, "-m", "bioner.cli", *argv], cwd=sandbox,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sigkill_when(proc, lambda: bool(list(output.parent.glob(".predictions.jsonl.tmp*"))),
                 "predict never started writing")
    (killed,) = output.parent.glob(".predictions.jsonl.tmp*")
    assert f"-{proc.pid}-" in killed.name  # the owner is in the name
    assert not output.exists()
    live_owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        from bioner.io.atomic_temps import HOST

        busy = output.with_name(f".predictions.jsonl.tmp-{HOST}-{live_owner.pid}-0a1b2c3d")
        busy.write_text("another process is writing this")
        remote = output.with_name(".predictions.jsonl.tmp-otherhost-12345-0a1b2c3d")
        remote.write_text("a process on another machine sharing this disk")
        caplog.set_level(logging.WARNING)
        rc, _, err = run_cli(capsys, "predict", "--checkpoint", trained["model"], "--input",
                             trained["raw"] / DATA_FILES["test_bc5cdr"], "--output", output)
        assert rc == 0, err
        assert not killed.exists()
        assert f"removed {killed}, a temp file left by process {proc.pid} (no longer running) while writing " \
               f"{output}" in caplog.messages
        assert busy.exists() and remote.exists()
        assert any(m.startswith(f"{remote}: temp file of process 12345 on host otherhost") for m in caplog.messages)
        assert len(output.read_text().splitlines()) == 40
    finally:
        live_owner.kill()
        live_owner.wait()


_FULL_DISK = """
set -e
mount -t tmpfs -o size="$SIZE" tmpfs "$MNT"
cp -a "$PREV"/. "$MNT"/
dd if=/dev/zero of="$MNT/.filler" bs=4k 2>/dev/null || true
set +e
"$@" 2>"$ERR" >/dev/null
echo $? >"$RC"
rm -f "$MNT/.filler"
cp -a "$MNT"/. "$AFTER"/
"""


@pytest.mark.skipif(not _unshare_available(), reason="needs unprivileged user+mount namespaces (unshare -rm)")
@pytest.mark.parametrize(("command", "target"), [  # predict writes like evaluate (atomic_open): injected above
    ("evaluate", "eval_test_bc5cdr.json"), ("silver", "silver_1.jsonl"), ("fetch", "raw"), ("train", "best_model")])
def test_really_full_disk(command: str, target: str, sandbox: Path, trained: dict, evals: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """The same on a real full filesystem (a tmpfs holding the previous output, then filled up): one line
    naming the output and 'No space left on device', exit 2, the previous output byte-identical, no temp."""
    argv = _stage_argv(command, sandbox, trained, evals)
    if command != "train":
        assert run_cli(capsys, *argv)[0] == 0
    prev, after, mnt = sandbox / "out", sandbox / "after", sandbox / "mnt"
    after.mkdir()
    mnt.mkdir()
    if command == "train":  # just the model: the tmpfs is small
        for p in prev.iterdir():
            if p.name != "best_model":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    argv = [str(a).replace(str(prev), str(mnt)) for a in argv]
    size = sum(p.stat().st_size for p in prev.rglob("*") if p.is_file()) + 2**20  # holds the old output
    env = dict(os.environ, MNT=str(mnt), PREV=str(prev), AFTER=str(after), ERR=str(sandbox / "err"),
               RC=str(sandbox / "rc"), SIZE=str(size))
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", _FULL_DISK, "sh", sys.executable, "-m", "bioner.cli",
                           *argv], cwd=sandbox, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    err = (sandbox / "err").read_text()
    assert (sandbox / "rc").read_text().strip() == "2", err
    msg = last_error_line(err, command)
    (target_path,) = [p for p in prev.rglob(target)]
    dest = mnt / target_path.relative_to(prev)
    dest = dest.parent if command == "silver" else dest  # silver replaces its set of files as one directory
    assert msg.startswith(f"bioner {command}: error: {dest}: cannot write it (No space left on device); the "
                          "previous version is unchanged. Fix: free space"), msg
    assert files_under(after) == files_under(prev)  # byte for byte, nothing added (no temp), nothing lost
