"""The merged per-type dictionaries as files: `<Type>.tsv`, one kept name a line: name<TAB>id<TAB>sources.

What the matcher used, after every rule (filters, clashes, stop list, max_tokens, duplicates, shadowing):
the file to read when a label looks wrong, and the DVC-tracked record of a run's dictionaries. Sources are
joined with `; `; a missing id is an empty field.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..io.atomic import atomic_open
from .lexicon import Lexicon

HEADER = "# name\tcanonical_id\tsources\n"


def write_dictionaries(lexicon: Lexicon, out_dir: str | os.PathLike) -> list[Path]:
    """Write one `<Type>.tsv` per type of `lexicon` into `out_dir` (created); return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for t, tl in lexicon.types.items():
        path = out / f"{t}.tsv"
        with atomic_open(path) as fh:
            fh.write(HEADER)
            for e in tl.entries:
                n = e.name
                fh.write(f"{n.text}\t{n.canonical_id or ''}\t{'; '.join(n.sources)}\n")
        paths.append(path)
    return paths
