"""The work dir of a finished run: its Trainer checkpoints (optimizer state, for resuming a killed run) and the
built `tiny` backbone are not needed once best_model and config_snapshot.yaml are written, and a BERT-base run
leaves gigabytes of them. Removed then; an unfinished run keeps them to resume from."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

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
