"""The work dir of a finished run: its Trainer checkpoints (optimizer state, for resuming a killed run) and the
built `tiny` backbone are not needed once best_model and config_snapshot.yaml are written, and a BERT-base run
leaves gigabytes of them. Removed then; an unfinished run keeps them to resume from."""

from __future__ import annotations

import errno
import logging
import re
import shutil
from pathlib import Path

from ..atomic_temps import describe

log = logging.getLogger("bioner.training")

#: what a run writes into its work dir (besides its lock): Trainer output dirs per phase, the built backbone
RESUME_STATE = ("phase1", "phase2", "tiny_backbone")


def prune_finished(work: Path) -> None:
    """Remove the resume state of the finished run in `work` (a fingerprint dir), logging what it freed."""
    freed = 0
    for name in RESUME_STATE:
        path = work / name
        if path.is_dir():
            freed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
            shutil.rmtree(path, ignore_errors=True)
    if freed:
        log.info("removed the finished run's Trainer checkpoints from %s (%.1f MB)", work, freed / 1e6)


#: what torch.save's zip writer raises when a write fails (a full disk: "unexpected pos 5696 vs 5588")
_TORCH_WRITER = re.compile(r"PytorchStreamWriter failed writing|inline_container\.cc")
#: below this much free space a failed checkpoint write is taken for a full disk
_NEARLY_FULL = 64 * 2**20


def is_torch_write_error(err: BaseException) -> bool:
    return isinstance(err, RuntimeError) and bool(_TORCH_WRITER.search(str(err)))


def checkpoint_write_cause(err: BaseException, out: Path) -> BaseException:
    """The cause to report for a failed checkpoint write: torch.save's zip-writer message says nothing of the
    disk, so on a (nearly) full filesystem it becomes ENOSPC with the free space and torch's text."""
    if not is_torch_write_error(err):
        return err
    try:
        free = shutil.disk_usage(out).free
    except OSError:
        return err
    if free >= _NEARLY_FULL:
        return err
    return OSError(errno.ENOSPC, f"No space left on device: {free / 2**20:.1f} MiB free; torch.save: {describe(err)}")
