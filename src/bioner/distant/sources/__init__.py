"""Dictionary source readers, one module per format; each yields (name, canonical id or None) for one type.

`read_source(spec, path)` dispatches on the settings model's `format` (bioner.settings.dictionaries). Errors
are one-line DistantErrors naming the file (and line or row where there is one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...settings.dictionaries import HgncSource, IctvSource, ListSource, SourceSpec, TaxdumpSource
from . import handlist, hgnc, ictv, taxdump

#: (name, canonical id or None, line or row of the source file it came from)
SourceName = tuple[str, str | None, int]


def read_source(spec: SourceSpec, path: Path, param: str | None = None) -> Iterator[SourceName]:
    """The names of one source at `path` (the spec's path, resolved against the data dir); `param` names the
    setting in a hand list's errors."""
    if isinstance(spec, ListSource):
        return handlist.read(path, param)
    if isinstance(spec, HgncSource):
        return hgnc.read(path, statuses=spec.statuses, locus_types=spec.locus_types, fields=spec.fields)
    if isinstance(spec, IctvSource):
        return ictv.read(path, fields=spec.fields, ranks=spec.ranks, sheet=spec.sheet)
    if isinstance(spec, TaxdumpSource):
        return taxdump.read(path, root=spec.root, name_classes=spec.name_classes, ranks=spec.ranks)
    raise TypeError(f"unknown source model {type(spec).__name__}")
