"""Cheap checks of one dictionary source file: it exists and its format's header (or members) are right.

What `bioner validate` can check before DVC deletes the `distant` stage's outputs; the full read (every row)
happens in the stage itself.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

from ..settings.dictionaries import HgncSource, IctvSource, ListSource, SourceSpec, TaxdumpSource
from .dictionary import read_names
from .errors import DistantError
from .merge import missing_file
from .sources import hgnc, ictv, taxdump


def check_file(where: str, spec: SourceSpec | None, path: Path) -> None:
    """One-line DistantError naming the setting when the file is missing or does not start like its format."""
    if isinstance(spec, TaxdumpSource):
        if not path.exists():
            raise missing_file(where, spec, path)
        for name in (taxdump.NODES, taxdump.NAMES):
            with taxdump.member(path, name) as fh:
                next(taxdump.dmp_lines(fh, f"{path}:{name}", 3 if name == taxdump.NODES else 4), None)
        return
    if not path.is_file():
        raise missing_file(where, spec, path)
    if spec is None or isinstance(spec, ListSource):
        read_names(path, what="stop list" if spec is None else "dictionary", param=where, allow_ids=spec is not None)
    elif isinstance(spec, HgncSource):
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh, delimiter="\t"), [])
        except UnicodeDecodeError:
            raise DistantError(f"{path}:1: not UTF-8 text; expected an HGNC table") from None
        hgnc.layout(header, path)
    elif isinstance(spec, IctvSource):
        with warnings.catch_warnings():  # the VMR's conditional formatting / data validation are irrelevant here
            warnings.simplefilter("ignore", UserWarning)
            wb, ws, sheet = ictv.open_sheet(path, spec.sheet)
            first = next(ws.iter_rows(max_row=1, values_only=True), ())
        try:
            header = {str(c).strip() for c in first if c is not None}
            need = ictv.needed_columns(spec.fields, spec.ranks)
            missing = [c for c in need if c not in header]
            if missing:
                raise DistantError(f"{path}: sheet {sheet!r} row 1 lacks the column(s) {', '.join(missing)}; "
                                   "expected the ICTV VMR header")
        finally:
            wb.close()
