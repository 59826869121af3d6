"""The HGNC gene table, in either genenames.org layout (detected from the header row).

- custom download (`hgnc_entries.tsv`): `HGNC ID`, `Approved symbol`, `Approved name`, `Status`,
  `Alias symbols`, `Previous symbols` (comma-separated), `Locus type`;
- complete set (`hgnc_complete_set.txt`): `hgnc_id`, `symbol`, `name`, `status`, `alias_symbol`, `prev_symbol`
  (`|`-separated, the cell sometimes quoted), `locus_type`.
The canonical id of every name is the HGNC ID (`HGNC:5`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from ..errors import DistantError

#: layout -> (column of: id, symbol, name, status, alias, previous, locus type; list separator)
LAYOUTS = {
    "custom download": (("HGNC ID", "Approved symbol", "Approved name", "Status", "Alias symbols",
                         "Previous symbols", "Locus type"), ","),
    "complete set": (("hgnc_id", "symbol", "name", "status", "alias_symbol", "prev_symbol", "locus_type"), "|"),
}
_FIELD_COLUMN = {"symbol": 1, "name": 2, "alias": 4, "previous": 5}


def layout(header: list[str], path: Path) -> tuple[list[int], str]:
    for cols, sep in LAYOUTS.values():
        if all(c in header for c in cols):
            return [header.index(c) for c in cols], sep
    want = "; ".join(f"{k}: {', '.join(c)}" for k, (c, _) in LAYOUTS.items())
    raise DistantError(f"{path}:1: not an HGNC table: the header lacks the columns of either layout ({want})")


def read(path: Path, *, statuses: Sequence[str], locus_types: Sequence[str],
         fields: Sequence[str]) -> Iterator[tuple[str, str | None, int]]:
    """(name, HGNC ID, line) for each wanted field of each row with a wanted status and locus type (file order)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            yield from _rows(fh, path, statuses, locus_types, fields)
    except OSError as e:
        raise DistantError(f"{path}: cannot read the HGNC table ({e.strerror})") from None


def _rows(fh: IO[str], path: Path, statuses: Sequence[str], locus_types: Sequence[str],
          fields: Sequence[str]) -> Iterator[tuple[str, str | None, int]]:
    rows = csv.reader(fh, delimiter="\t")
    try:
        header = next(rows)
    except StopIteration:
        raise DistantError(f"{path}:1: empty file; expected an HGNC table with a header row") from None
    except UnicodeDecodeError:
        raise DistantError(f"{path}:1: not UTF-8 text; expected an HGNC table") from None
    cols, sep = layout(header, path)
    want_status, want_locus = set(statuses), set(locus_types)
    wanted = [_FIELD_COLUMN[f] for f in fields]
    lineno = 1
    try:
        for lineno, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) < len(header):
                row = row + [""] * (len(header) - len(row))
            get = [row[c].strip() for c in cols]
            if want_status and get[3] not in want_status:
                continue
            if want_locus and get[6] not in want_locus:
                continue
            hid = get[0] or None
            for k in wanted:
                cell = get[k]
                if not cell:
                    continue
                if k in (4, 5):  # lists
                    for v in cell.strip('"').split(sep):
                        if v.strip():
                            yield v.strip(), hid, lineno
                else:
                    yield cell, hid, lineno
    except UnicodeDecodeError:
        raise DistantError(f"{path}:{lineno + 1}: not UTF-8 text") from None
    except csv.Error as e:
        raise DistantError(f"{path}:{lineno}: {e}") from None
