"""The one JSONL line reader of the corpus loader and `bioner predict`: UTF-8 lines with file:line errors.

Hand-written rather than `datasets.load_dataset("json")`: that loader reports schema problems as Arrow cast
errors without a line number. Lines are split on b"\\n" only (a JSON string may hold U+2028), a UTF-8
byte-order mark on the first line is accepted, blank lines are skipped (kept on request: predict answers
every line).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import UserError


def line_error(cls: type[UserError], path: Path, line: int, problem: str, fix: str) -> UserError:
    """`file:line: problem. Fix: ...` as an error of class `cls`."""
    return cls(f"{path}:{line}: {problem}. Fix: {fix}")


def text_lines(fh: IO[bytes], path: Path, error: type[UserError], keep_blank: bool = False,
               ) -> Iterator[tuple[int, str, int]]:
    """(line number, decoded line, bytes read so far) for every non-blank line of a binary file (every line with
    `keep_blank`)."""
    consumed = 0
    for lineno, raw in enumerate(fh, start=1):
        consumed += len(raw)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise line_error(error, path, lineno, f"not valid UTF-8 ({err.reason} at byte {err.start})",
                             "re-encode the file as UTF-8") from None
        if lineno == 1:
            line = line.removeprefix("\ufeff")  # a UTF-8 byte-order mark (Windows editors) is valid UTF-8
        if keep_blank or line.strip():
            yield lineno, line, consumed


def json_object(line: str, path: Path, lineno: int, error: type[UserError], *, line_fix: str,
                example: str) -> dict[str, Any]:
    """One line parsed as a JSON object; `line_fix` is the fix for bad JSON, `example` a record to write."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as err:
        raise line_error(error, path, lineno, f"bad JSON ({err.msg}, column {err.colno})", line_fix) from None
    if not isinstance(rec, dict):
        raise line_error(error, path, lineno, f"expected a JSON object, got {type(rec).__name__}", example)
    return rec
