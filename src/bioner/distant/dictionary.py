"""Read name files: dictionaries (one name a line, or `name<TAB>canonical id`) and stop lists.

A line whose first non-blank character is `#` is a comment; a `#` inside a name is part of it (the BC2GM gene
list has "EFIA # 1"). Blank lines are skipped; surrounding whitespace is stripped. Names are tokenised exactly
like the corpora (`textsplit` rule ``punct``: word runs, every other character its own token), so "IL-2",
"IL - 2" and "IL -2" are the same three tokens and match the corpus's "IL - 2".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..data.textsplit import PUNCT_TOKEN
from ..io.jsonl import text_lines
from .errors import DistantError


class DictName(NamedTuple):
    """One name of a name file (a NamedTuple: a million of them stay small and quick to make)."""

    text: str  # as written, stripped
    tokens: tuple[str, ...]  # corpus tokenisation of `text`
    line: int  # 1-based line in its file
    canonical_id: str | None = None  # second TSV column, kept for entity linking
    sources: tuple[str, ...] = ()  # provenance: every source that gave the name (bioner.distant.merge)


def tokenize_name(text: str) -> tuple[str, ...]:
    """Tokens of a name, split like the corpus tokens (word runs; each other non-space character alone)."""
    return tuple(PUNCT_TOKEN.findall(text))


def _where(path: Path, param: str | None) -> str:
    return f"{param}={str(path)!r}" if param else str(path)


def _check_name(text: str, where: str) -> tuple[str, ...]:
    """The name's tokens; an error if it has no letter or digit (it would label bare punctuation, or nothing)."""
    tokens = tokenize_name(text)
    if not any(t[0].isalnum() for t in tokens):  # a word token starts with a letter/digit, punctuation never
        shown = f"{text!r} (tokens {list(tokens)})" if tokens else repr(text)
        raise DistantError(f"{where}: the name {shown} tokenises to no word (no letter or digit). "
                           "Fix: remove the line, or write the name it stands for")
    return tokens


def read_names(path: str | os.PathLike, *, what: str = "dictionary", param: str | None = None,
               allow_ids: bool = True) -> list[DictName]:
    """Read and check one name file; `what` and `param` name it in errors (e.g. 'stop list', 'distant.stop').

    Errors (DistantError, one line): missing file, non-UTF-8 bytes, a line with more than two tab-separated
    fields (or any tab where ids are not allowed), a name without a letter or digit, a file with no name.
    """
    path = Path(path)
    if not path.is_file():
        state = "is a directory" if path.is_dir() else "not found"
        raise DistantError(f"{_where(path, param)}: {what} file {state}. Fix: give an existing file, absolute or "
                           "relative to the data directory")
    names: list[DictName] = []
    with open(path, "rb") as fh:  # the project's one line reader: UTF-8, BOM, blank lines, file:line errors
        for lineno, line, _ in text_lines(fh, path, DistantError):
            if line.lstrip().startswith("#"):
                continue
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) > 2 or (len(fields) == 2 and not allow_ids):
                allowed = "a name or name<TAB>canonical id" if allow_ids else "one name, no tab"
                raise DistantError(f"{path}:{lineno}: {len(fields)} tab-separated fields; a {what} line is "
                                   f"{allowed}. Fix: one name a line")
            text = fields[0].strip()
            cid = (fields[1].strip() or None) if len(fields) == 2 else None
            names.append(DictName(text, _check_name(text, f"{path}:{lineno}"), lineno, cid))
    if not names:
        raise DistantError(f"{path}:1: {what} names nothing (no line besides blanks and # comments). "
                           f"Fix: one name a line, or leave the {what} out")
    return names


def inline_names(values: list[str] | tuple[str, ...], param: str) -> list[DictName]:
    """Names given in params.yaml (an inline stop list); errors name `param[index]`. `line` = position."""
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise DistantError(f"{param}[{i}]={v!r}: not a string; allowed: names, e.g. [ER, RT, CT]")
        out.append(DictName(v.strip(), _check_name(v.strip(), f"{param}[{i}]"), i + 1))
    return out
