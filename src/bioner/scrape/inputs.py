"""The files `corpus.path` names: the path itself, or the matching files of a folder, sorted by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import ScrapeError


def input_files(path: Path, matches: Callable[[Path], bool], what: str, kinds: str, *,
                recursive: bool = False) -> list[Path]:
    """`path` if it is a file, else its files that `matches` (every level with `recursive`), sorted by name;
    ScrapeError naming `corpus.path` when it does not exist or holds none. `what`: what it should be; `kinds`:
    the file kinds a folder should hold."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ScrapeError(f"corpus.path={str(path)!r} does not exist; give {what}")
    found = path.rglob("*") if recursive else path.iterdir()
    files = sorted(p for p in found if p.is_file() and matches(p))
    if not files:
        raise ScrapeError(f"corpus.path={str(path)!r}: no {kinds} file in this folder")
    return files
