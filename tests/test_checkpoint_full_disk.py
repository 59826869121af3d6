"""A full disk while the Trainer saves a checkpoint (torch.save's "unexpected pos" error) is one line naming
the work dir and 'No space left on device', exit 2: never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bioner.training import workdir

TINY_SETS = ["-s", "tiny.hidden_size=32", "-s", "tiny.intermediate_size=64", "-s", "tiny.num_layers=1",
             "-s", "tiny.vocab_size=1000", "-s", "train.max_length=64"]
TORCH_FULL_DISK = "[enforce fail at inline_container.cc:672] . unexpected pos 5696 vs 5588"


def _unshare_available() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _unshare_available(), reason="needs unprivileged user+mount namespaces (unshare -rm)")
def test_a_really_full_work_dir(tmp_path: Path, small_sample_dir: Path) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = 'mount -t tmpfs -o size=600k tmpfs "$0" && exec "$@"'
    argv = [sys.executable, "-m", "bioner.cli", "train", "--strategy", "single_source", "--epochs", "2",
            "--data_dir", str(small_sample_dir), "--output_dir", str(tmp_path / "out"), "--work_dir",
            str(mnt / "work"), *TINY_SETS]
    p = subprocess.run(["unshare", "-rm", "sh", "-c", script, str(mnt), *argv], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    err = p.stderr.strip().splitlines()
    assert p.returncode == 2, p.stderr[-3000:]
    assert "Traceback" not in p.stderr
    assert err[-1].startswith(f"bioner train: error: {mnt / 'work'}/") and "No space left on device" in err[-1]
    assert err[-1].endswith("Fix: free space on that filesystem (or write elsewhere) and run again")


def test_torch_zip_writer_errors_on_a_full_disk_are_enospc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Usage:
        free = 1024

    monkeypatch.setattr(workdir.shutil, "disk_usage", lambda _: Usage)
    cause = workdir.checkpoint_write_cause(RuntimeError(TORCH_FULL_DISK), tmp_path)
    assert isinstance(cause, OSError) and cause.errno == 28 and TORCH_FULL_DISK in cause.strerror
    Usage.free = 10 * 2**30  # plenty of space: some other failure, reported as torch said it
    assert isinstance(workdir.checkpoint_write_cause(RuntimeError(TORCH_FULL_DISK), tmp_path), RuntimeError)
