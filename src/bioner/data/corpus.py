"""Corpus loading: JSONL records (read by bioner.io.jsonl) validated against a label view, IOB2 repair.

Errors are `file:line: problem. Fix: ...`. The validated records are handed to `datasets` right after (align.py):
`datasets.load_dataset("json")` can neither check the label space nor repair IOB2.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..io.jsonl import json_object, line_error, text_lines
from ..settings.labels import FIELD_FULL, FIELD_GOLD, TYPE_NAME_RULE, valid_label

log = logging.getLogger(__name__)

#: Sentences longer than this many tokens are refused (a sign of a broken sentence splitter or wrong file).
MAX_TOKENS = 5000


class CorpusError(UserError, ValueError):
    """A record that cannot be used; the message is `file:line: problem. Fix: ...`."""


@dataclass
class Corpus:
    """Validated sentences of one file, in one label view."""

    path: Path
    field: str
    tokens: list[list[str]]
    tags: list[list[str]]
    extra: list[dict[str, Any]] = field(default_factory=list)
    repaired: int = 0  # I-X without B-X/I-X before it, rewritten to B-X
    skipped_empty: int = 0
    dropped_blank: int = 0  # whitespace-only tokens dropped with their tags

    def __len__(self) -> int:
        return len(self.tokens)


def is_blank(token: str) -> bool:
    """A token with no visible character ("", " ", "\\t", ...): never part of an entity span."""
    return not token or token.isspace()


def has_blank(tokens: Sequence[str]) -> bool:
    return "" in tokens or any(map(str.isspace, tokens))  # map: a C loop, no per-token Python frame


def repair_iob2(tags: list[str]) -> tuple[list[str], int]:
    """Rewrite each I-X that does not follow B-X or I-X to B-X; return the new tags and the repair count."""
    out, fixes, prev = [], 0, "O"
    for t in tags:
        if t.startswith("I-") and prev[2:] != t[2:]:
            t = "B-" + t[2:]
            fixes += 1
        out.append(t)
        prev = t
    return out, fixes


def _fail(path: Path, line: int, problem: str, fix: str) -> CorpusError:
    return line_error(CorpusError, path, line, problem, fix)  # type: ignore[return-value]


def load_corpus(
    path: str | Path,
    field: str,
    label2id: dict[str, int] | None = None,
    *,
    keep_extra: bool = False,
    space: str = "",
) -> Corpus:
    """Load and validate one JSONL file in the BioNER-DS record format.

    `field` is the label view to read (`decoded_tags` or `decoded_tags_pseudo_final`). With `label2id` its labels
    must lie in that label space (a run's: `space` names where it comes from, for the error); without, any
    well-formed label is accepted (O, B-T, I-T with T a valid type name: the file says which types it holds).
    Empty sentences are skipped and counted; whitespace-only tokens are dropped with their tags and counted;
    invalid IOB2 is repaired (after the drop) and counted (all logged as warnings).
    """
    path = Path(path)
    _check_file(path, field)
    corpus = Corpus(path=path, field=field, tokens=[], tags=[])
    allowed = set(label2id) if label2id is not None else {"O"}  # open space: grows by each valid label seen
    with open(path, "rb") as fh:
        for lineno, text, _ in text_lines(fh, path, CorpusError):
            rec = _record(text, path, lineno, field)
            toks, tags = rec["tokens"], rec[field]
            tagset = set(tags)
            _check_labels(tagset, allowed, label2id is None, path, lineno, field, space)
            if _add_sentence(corpus, toks, tags, tagset) and keep_extra:
                corpus.extra.append({k: v for k, v in rec.items() if k not in ("tokens", FIELD_GOLD, FIELD_FULL)})
    if not corpus.tokens:
        what = "is empty" if path.stat().st_size == 0 else "has no non-empty sentence"
        raise CorpusError(f"{path}:1: file {what}. Fix: re-run `bioner fetch`, or check the file's source")
    _warn_counts(corpus)
    return corpus


def _check_file(path: Path, field: str) -> None:
    if field not in (FIELD_GOLD, FIELD_FULL):
        raise CorpusError(f"unknown label field {field!r}; use {FIELD_GOLD!r} or {FIELD_FULL!r}")
    if path.is_dir():
        raise CorpusError(f"{path}: is a directory, not a JSONL file. Fix: check --data_dir (it holds the "
                          "layout bc5cdr/*.jsonl, pubmed/*.jsonl) or re-run `bioner fetch`")
    if not path.is_file():
        raise CorpusError(f"{path}: file not found. Fix: run `bioner fetch` (or `dvc repro fetch`) first, "
                          "or check data.source")


def _record(text: str, path: Path, lineno: int, field: str) -> dict:
    """One line's record: `tokens` and `field`, lists of strings of equal, bounded length."""
    rec = json_object(text, path, lineno, CorpusError, line_fix="one complete JSON object per line",
                      example='write {"tokens": [...], "' + field + '": [...]}')
    for key in ("tokens", field):
        if key not in rec:
            raise _fail(path, lineno, f"missing field {key!r}",
                        f'every record needs "tokens" and "{field}" (lists of equal length)')
        # set(map(type, ...)) loops in C, and sentences without I- skip the repair (docs/benchmarks.md)
        if not isinstance(rec[key], list) or not set(map(type, rec[key])) <= {str}:
            raise _fail(path, lineno, f"field {key!r} must be a list of strings", "fix the record")
    toks, tags = rec["tokens"], rec[field]
    if len(toks) != len(tags):
        raise _fail(path, lineno, f"{len(toks)} tokens but {len(tags)} tags in {field!r}",
                    "give every token exactly one tag")
    if len(toks) > MAX_TOKENS:
        raise _fail(path, lineno, f"sentence of {len(toks)} tokens (limit {MAX_TOKENS})",
                    "split the text into sentences before converting it")
    return rec


def _check_labels(tagset: set[str], allowed: set[str], open_space: bool, path: Path, lineno: int, field: str,
                  space: str) -> None:
    """The sentence's labels lie in `allowed`; in an open space a well-formed new label joins it."""
    bad = sorted(tagset - allowed)
    if bad and open_space:
        if not_labels := [t for t in bad if not valid_label(t)]:
            raise _fail(path, lineno, f"invalid label(s) {not_labels} in {field!r}",
                        f"a label is O, B-<Type> or I-<Type>, with <Type> {TYPE_NAME_RULE}")
        allowed.update(bad)
    elif bad:
        where = f" ({space})" if space else ""
        raise _fail(path, lineno, f"label(s) {bad} not in the {len(allowed)}-label space of {field!r}{where}",
                    f"use only {sorted(allowed)}")


def _add_sentence(corpus: Corpus, toks: list[str], tags: list[str], tagset: set[str]) -> bool:
    """Append the sentence without its blank tokens, IOB2-repaired (True); an empty one is only counted."""
    if has_blank(toks):  # e.g. a tab token: the model would tag its [UNK] as part of an entity
        keep = [i for i, t in enumerate(toks) if not is_blank(t)]
        corpus.dropped_blank += len(toks) - len(keep)
        toks, tags = [toks[i] for i in keep], [tags[i] for i in keep]
        tagset = set(tags)
    if not toks:
        corpus.skipped_empty += 1
        return False
    if any(t.startswith("I-") for t in tagset):  # no I- tag (most sentences): nothing to repair
        tags, fixes = repair_iob2(tags)
        corpus.repaired += fixes
    corpus.tokens.append(toks)
    corpus.tags.append(tags)
    return True


def _warn_counts(corpus: Corpus) -> None:
    path = corpus.path
    if corpus.dropped_blank:
        log.warning("%s: dropped %d whitespace-only token(s) with their tags (a token needs a visible character)",
                    path, corpus.dropped_blank)
    if corpus.repaired:
        log.warning("%s: repaired %d invalid IOB2 tag(s) (I-X without B-X -> B-X)", path, corpus.repaired)
    if corpus.skipped_empty:
        log.warning("%s: skipped %d empty sentence(s)", path, corpus.skipped_empty)
