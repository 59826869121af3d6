"""Atomic file writes: write to a temp file in the same directory, then rename.

A crash never leaves a half-written output, and a reader never sees one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import yaml


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file beside `path`; on success rename it onto `path`, on error delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode, encoding=None if "b" in mode else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path) as fh:
        json.dump(obj, fh, indent=2, sort_keys=False)
        fh.write("\n")


def write_yaml(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path) as fh:
        yaml.safe_dump(obj, fh, sort_keys=False)


def replace_dir(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Move a fully written directory `src` onto `dst`, replacing any old one (old one removed last).

    Two renames (Linux has no portable atomic directory exchange): old -> .old, src -> dst. If the second
    fails the old one is put back; only a kill in the microseconds between them leaves dst missing (with
    `.<name>.old` beside it).
    """
    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    old = dst.with_name(f".{dst.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if dst.exists():
        os.replace(dst, old)
    try:
        os.replace(src, dst)
    except BaseException:
        if old.exists() and not dst.exists():
            os.replace(old, dst)  # put the previous version back: a failed swap changes nothing
        raise
    if old.exists():
        shutil.rmtree(old)
