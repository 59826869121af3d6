"""Helpers for outputs written as a whole directory (built in a temp dir, then `atomic.replace_dir`)."""

from __future__ import annotations

import os
from pathlib import Path


def keep_modes(old: Path, new: Path) -> None:
    """Give each file of `new` the mode of the file of the same name in `old`, if there is one: rewriting an
    output keeps the mode it has, as `atomic_open` does for a single file."""
    if not old.is_dir():
        return
    for path in new.iterdir():
        before = old / path.name
        if path.is_file() and before.is_file() and not before.is_symlink():
            os.chmod(path, before.stat().st_mode & 0o7777)
