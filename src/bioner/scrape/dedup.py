"""Deduplication of the scraped corpus: by PMID, by token sequence, and against the gold test sentences.

Token sequences are kept as 16-byte BLAKE2b digests, not as token lists: the seen-set grows by one small
object per kept sentence (docs/benchmarks.md s.9).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path

from ..io.jsonl import json_object, line_error, text_lines
from .errors import ScrapeError


def token_key(tokens: Sequence[str]) -> bytes:
    """A fixed-size key of a token sequence (the unit separator cannot occur inside a token)."""
    return hashlib.blake2b("\x1f".join(tokens).encode("utf-8"), digest_size=16).digest()


def test_keys(paths: Iterable[Path]) -> set[bytes]:
    """Keys of every sentence (`tokens`) of the gold test files; a missing or bad file is a ScrapeError."""
    keys: set[bytes] = set()
    for path in paths:
        if not path.is_file():
            raise ScrapeError(f"{path}: gold test file not found (the corpus removes sentences that occur in it). "
                              "Fix: run `bioner fetch` (or `dvc repro fetch`) first, or pass --data_dir")
        with open(path, "rb") as fh:
            for lineno, line, _ in text_lines(fh, path, ScrapeError):
                rec = json_object(line, path, lineno, ScrapeError, line_fix="one JSON record a line",
                                  example='{"tokens": [...], ...}')
                tokens = rec.get("tokens")
                if not isinstance(tokens, list):
                    raise line_error(ScrapeError, path, lineno, "no `tokens` list", "give each record its tokens")
                keys.add(token_key(tokens))
    return keys


#: a shared sentence at least this long marks its whole document as a gold test document; shorter ones ("1 .",
#: "A phase II study .") are too generic for that and remove only themselves
TEST_DOCUMENT_MIN_TOKENS = 6


class Dedup:
    """Remembers what was kept; says why a document or sentence is a duplicate, and counts it."""

    def __init__(self, test: set[bytes]) -> None:
        self.test = test
        self.pmids: set[str] = set()
        self.sentences: set[bytes] = set()
        self.counts = {"duplicates_pmid": 0, "duplicates_sentence": 0, "test_overlap_documents": 0,
                       "test_overlap_sentences": 0}

    def new_pmid(self, pmid: str) -> bool:
        """True the first time `pmid` is seen (an empty PMID is never a duplicate)."""
        return not pmid or self._first(pmid, self.pmids, "duplicates_pmid")

    def _first(self, key: Hashable, seen: set, counter: str) -> bool:
        """True (and `key` remembered) the first time it is seen; later times counted under `counter`."""
        if key in seen:
            self.counts[counter] += 1
            return False
        seen.add(key)
        return True

    def test_document(self, sentences: Sequence[Sequence[str]]) -> bool:
        """True (and counted, with all its sentences) for a document that shares a sentence of at least
        TEST_DOCUMENT_MIN_TOKENS tokens with a gold test file: a test abstract never becomes silver, even where
        the splitter cut its other sentences differently from the test file's."""
        if any(len(t) >= TEST_DOCUMENT_MIN_TOKENS and token_key(t) in self.test for t in sentences):
            self.counts["test_overlap_documents"] += 1
            self.counts["test_overlap_sentences"] += len(sentences)
            return True
        return False

    def keep_sentence(self, tokens: Sequence[str]) -> bool:
        """False (and counted) for a sentence of a gold test file or one already kept."""
        key = token_key(tokens)
        if key in self.test:
            self.counts["test_overlap_sentences"] += 1
            return False
        return self._first(key, self.sentences, "duplicates_sentence")
