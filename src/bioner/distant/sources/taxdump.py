"""NCBI Taxonomy's taxdump: names.dmp and nodes.dmp, from a `.tar.gz` or a folder holding both.

Fields are separated by `\\t|\\t` and every line ends with `\\t|`. nodes.dmp: tax_id, parent tax_id, rank, ...;
names.dmp: tax_id, name_txt, unique name, name class. Both are streamed line by line (the full dump's
names.dmp is hundreds of MB); only the parent and rank of each node are kept in memory. Names of the subtree
under `root` with a wanted name class and rank are yielded; the canonical id is the taxid.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import DistantError

NODES, NAMES = "nodes.dmp", "names.dmp"


def _fields(line: str) -> list[str]:
    return line.rstrip("\r\n").removesuffix("\t|").split("\t|\t")


@contextmanager
def member(path: Path, name: str) -> Iterator[IO[str]]:
    """A text stream of `name` inside the dump at `path` (a folder, or a tar archive of any compression)."""
    if path.is_dir():
        f = path / name
        if not f.is_file():
            raise DistantError(f"{path}: no {name} in the taxdump folder (expected names.dmp and nodes.dmp)")
        with open(f, encoding="utf-8", errors="strict") as fh:
            yield fh
        return
    try:
        with tarfile.open(path, "r:*") as tar:
            member = next((m for m in tar.getmembers() if Path(m.name).name == name and m.isfile()), None)
            if member is None:
                raise DistantError(f"{path}: the archive holds no {name} (expected names.dmp and nodes.dmp)")
            raw = tar.extractfile(member)
            assert raw is not None  # a regular file member
            with io.TextIOWrapper(raw, encoding="utf-8") as fh:
                yield fh
    except (tarfile.TarError, EOFError, OSError) as e:  # also a truncated or corrupt archive, while reading
        raise DistantError(f"{path}: not a readable taxdump archive ({e}); expected NCBI's taxdump.tar.gz "
                           "or a folder with names.dmp and nodes.dmp") from None


def dmp_lines(fh: IO[str], where: str, min_fields: int) -> Iterator[tuple[int, list[str]]]:
    lineno = 0
    try:
        for lineno, line in enumerate(fh, start=1):
            f = _fields(line)
            if len(f) < min_fields:
                if not line.strip():
                    continue
                raise DistantError(f"{where}:{lineno}: {len(f)} field(s); a taxdump line has at least "
                                   f"{min_fields} fields separated by '\\t|\\t'")
            yield lineno, f
    except UnicodeDecodeError:
        raise DistantError(f"{where}:{lineno + 1}: not UTF-8 text") from None


def subtree(parent: dict[str, str], root: str) -> set[str]:
    """Every taxid whose lineage reaches `root` (root included); each node's lineage walked once (memo)."""
    inside: dict[str, bool] = {root: True}
    for t in parent:
        path = []
        x = t
        while x not in inside:
            path.append(x)
            p = parent.get(x)
            if p is None or p == x:  # the tree's root (or a dangling parent): outside the subtree
                inside[x] = False
                break
            x = p
        val = inside[x]
        for y in path:
            inside[y] = val
    return {t for t, v in inside.items() if v}


def read(path: Path, *, root: int, name_classes: Sequence[str],
         ranks: Sequence[str] = ()) -> Iterator[tuple[str, str | None, int]]:
    """(name, taxid, names.dmp line) of each name under `root` with a wanted class and rank, in file order."""
    parent: dict[str, str] = {}
    rank: dict[str, str] = {}
    with member(path, NODES) as fh:
        for _, f in dmp_lines(fh, f"{path}:{NODES}", 3):
            parent[f[0]] = f[1]
            rank[f[0]] = f[2]
    r = str(root)
    if r not in parent:
        raise DistantError(f"{path}: root taxid {root} is not in {NODES}; set the source's `root` to a taxid "
                           "of the dump (10239 = Viruses)")
    keep = subtree(parent, r)
    if ranks:
        want_rank = set(ranks)
        keep = {t for t in keep if rank[t] in want_rank}
    del parent, rank
    classes = set(name_classes)
    with member(path, NAMES) as fh:
        for lineno, f in dmp_lines(fh, f"{path}:{NAMES}", 4):
            if f[0] in keep and f[3] in classes:
                yield f[1].strip(), f[0], lineno
