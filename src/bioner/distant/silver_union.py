"""Join several silver files into the one silver corpus the later stages read (`data.silver`).

Each file is labelled (the seed's `decoded_tags_pseudo_final`) or text only (`{"tokens": [...]}`: the distant
stage labels it, so only `distant.mode=relabel` accepts it; `keep` refuses it rather than read it as all-O
silver). Sentences are deduplicated by token sequence across and within files, and every sentence that also
occurs in a test file is removed, so no test sentence becomes silver. Each kept record notes its `origin` (the
file it came from, as the settings name it); the counts go to the stage's metrics.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..data.corpus import is_blank
from ..io.atomic import atomic_open
from ..io.jsonl import json_object, text_lines
from ..settings.labels import FIELD_FULL, FIELD_GOLD
from .errors import DistantError

#: Record field naming the silver file a sentence came from.
FIELD_ORIGIN = "origin"


def token_key(tokens: Sequence[str]) -> str:
    """A sentence's identity for deduplication: its tokens (blank tokens ignored, as the loader drops them)."""
    return "\x1f".join(t for t in tokens if not is_blank(t))


def gold_sentence_keys(paths: Iterable[Path]) -> set[str]:
    """Token keys of every sentence of the gold test files (only tokens matter; labels are checked when scored)."""
    keys: set[str] = set()
    for p in paths:
        with open(p, "rb") as fh:
            for lineno, text, _ in text_lines(fh, p, DistantError):
                rec = json_object(text, p, lineno, DistantError, line_fix="one JSON object per line",
                                  example='write {"tokens": [...], ...}')
                keys.add(token_key(rec.get("tokens") or []))
    keys.discard("")
    return keys


def join_silver(files: Sequence[tuple[str, Path]], out: str | os.PathLike, *, relabel: bool,
                exclude: set[str]) -> dict[str, Any]:
    """Write `out`: the records of `files` ([(name in the settings, path)]) minus duplicates and `exclude`
    (token keys of test sentences). Unlabelled records need `relabel` (they get an all-O gold view and the
    distant stage labels them); with it off, one is an error naming its file and line."""
    seen: set[str] = set()
    per_file: dict[str, dict[str, int]] = {}
    with atomic_open(out) as fh:
        for name, path in files:
            n = {"read": 0, "kept": 0, "duplicates": 0, "test_overlap": 0, "empty": 0, "unlabelled": 0}
            with open(path, "rb") as src:
                for lineno, text, _ in text_lines(src, path, DistantError):
                    rec = json_object(text, path, lineno, DistantError, line_fix="one JSON object per line",
                                      example='write {"tokens": [...]}')
                    n["read"] += 1
                    tokens = rec.get("tokens")
                    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                        raise DistantError(f"{path}:{lineno}: no list of string tokens. Fix: write "
                                           '{"tokens": [...]} (labels optional)')
                    if FIELD_FULL not in rec:
                        if not relabel:
                            raise DistantError(
                                f"{path}:{lineno}: no {FIELD_FULL} labels (text only); distant.mode=keep keeps "
                                "the labels a silver file carries and would read it as all-O silver. Fix: "
                                "-S distant.mode=relabel (the dictionaries label it), or drop it from data.silver")
                        n["unlabelled"] += 1
                    key = token_key(tokens)
                    if not key:
                        n["empty"] += 1
                        continue
                    if key in exclude:
                        n["test_overlap"] += 1
                        continue
                    if key in seen:
                        n["duplicates"] += 1
                        continue
                    seen.add(key)
                    rec.setdefault(FIELD_GOLD, ["O"] * len(tokens))
                    rec[FIELD_ORIGIN] = name
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                    n["kept"] += 1
            per_file[name] = n
        if not seen:  # inside the block: the output is not written
            raise DistantError(f"data.silver={[name for name, _ in files]}: no sentence is left after "
                               "deduplication and removing test sentences. Fix: check the silver files")
    return {"files": per_file, "sentences": len(seen),
            "duplicates_removed": sum(v["duplicates"] for v in per_file.values()),
            "test_overlap_removed": sum(v["test_overlap"] for v in per_file.values())}
