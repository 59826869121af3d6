"""A hand-kept list: one name a line, or name<TAB>canonical id (the checks of bioner.distant.dictionary)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..dictionary import read_names


def read(path: Path, param: str | None = None) -> Iterator[tuple[str, str | None, int]]:
    """Every name of the list with its id (None without one) and line, in file order."""
    for n in read_names(path, param=param):
        yield n.text, n.canonical_id, n.line
