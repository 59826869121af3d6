"""The ICTV Virus Metadata Resource (VMR) workbook, read with openpyxl in read-only (streaming) mode.

One row per isolate. Names: `Virus name(s)` and `Virus name abbreviation(s)` (several separated by `;`), and
the names of the chosen taxon-rank columns (`Genus`, `Family`, ..., `Species`: the binomials). The canonical
id of a virus name is the row's `ICTV_ID` (a HYPERLINK formula in the distributed file: its text is taken),
else its species; that of a taxon name is the taxon name itself.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import DistantError

NAME_COLUMN = "Virus name(s)"
ABBREVIATION_COLUMN = "Virus name abbreviation(s)"
ID_COLUMN = "ICTV_ID"
SPECIES_COLUMN = "Species"
_HYPERLINK_TEXT = re.compile(r'"([^"]*)"\s*\)\s*$')  # =HYPERLINK("url","ICTV2024...") -> the link text


def _cell_id(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.startswith("="):
        m = _HYPERLINK_TEXT.search(text)
        return m.group(1).strip() or None if m else None
    return text or None


def _split(value: object) -> list[str]:
    if value is None:
        return []
    return [v.strip() for v in str(value).split(";") if v.strip()]


def needed_columns(fields: Sequence[str], ranks: Sequence[str]) -> list[str]:
    """The header columns a source with these name fields and ranks reads (name fields first)."""
    return ([NAME_COLUMN] * ("name" in fields) + [ABBREVIATION_COLUMN] * ("abbreviation" in fields)
            + [r.capitalize() for r in ranks])


def open_sheet(path: Path, sheet: str | None):  # noqa: ANN202 - an openpyxl worksheet and its workbook
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except FileNotFoundError:
        raise DistantError(f"{path}: ICTV VMR workbook not found") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as e:
        raise DistantError(f"{path}: not an .xlsx workbook ({type(e).__name__}: {e}); expected the ICTV VMR "
                           "as ICTV distributes it") from None
    names = wb.sheetnames
    if sheet is None:
        sheet = next((s for s in names if s.upper().startswith("VMR")), names[0] if len(names) == 1 else None)
    if sheet not in names:
        wb.close()
        raise DistantError(f"{path}: no worksheet {sheet!r} (sheets: {', '.join(names)}); set the source's "
                           "`sheet` option")
    return wb, wb[sheet], sheet


def read(path: Path, *, fields: Sequence[str], ranks: Sequence[str],
         sheet: str | None = None) -> Iterator[tuple[str, str | None, int]]:
    """(name, id, row) for each wanted name of each isolate row, each (name, id) pair once, in row order."""
    with warnings.catch_warnings():  # the VMR's conditional formatting / data validation are irrelevant here
        warnings.simplefilter("ignore", UserWarning)
        return iter(list(_rows(path, fields, ranks, sheet)))  # a workbook of ~18k rows: a small list


def _rows(path: Path, fields: Sequence[str], ranks: Sequence[str],
          sheet: str | None) -> Iterator[tuple[str, str | None, int]]:
    wb, ws, sheet = open_sheet(path, sheet)
    try:
        rows = ws.iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
        col = {h: i for i, h in enumerate(header) if h}
        need = needed_columns(fields, ranks)
        missing = [c for c in need if c not in col]
        if missing:
            raise DistantError(f"{path}: sheet {sheet!r} row 1 lacks the column(s) {', '.join(missing)}; "
                               "expected the ICTV VMR header (Species, Genus, ..., Virus name(s), ...)")
        name_cols = [col[c] for c in need[:len(need) - len(ranks)]]
        rank_cols = [col[r.capitalize()] for r in ranks]
        id_col, species_col = col.get(ID_COLUMN), col.get(SPECIES_COLUMN)
        seen: set[tuple[str, str | None]] = set()
        for rowno, row in enumerate(rows, start=2):
            if not row:
                continue
            cid = _cell_id(row[id_col]) if id_col is not None and id_col < len(row) else None
            if cid is None and species_col is not None and species_col < len(row):
                cid = _cell_id(row[species_col])
            out: list[tuple[str, str | None]] = []
            for c in name_cols:
                out += [(n, cid) for n in _split(row[c] if c < len(row) else None)]
            for c in rank_cols:
                taxon = _cell_id(row[c]) if c < len(row) else None
                if taxon:
                    out.append((taxon, taxon))
            for pair in out:
                if pair not in seen:
                    seen.add(pair)
                    yield (*pair, rowno)
    finally:
        wb.close()
