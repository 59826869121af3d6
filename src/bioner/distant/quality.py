"""The label-quality report of a dictionary labelling: what was loaded, dropped, matched and never matched.

The first check of a distant-supervision dictionary: the most frequent matches are where the noise hides (an
ambiguous acronym matched thousands of times), names that never match are dead weight or a tokenisation
mismatch, dropped names say what the rules removed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from .matcher import Matcher


class QualityCounter:
    """Accumulates per-sentence matches; `report()` gives the JSON-ready dict."""

    def __init__(self, matcher: Matcher, top: int = 20, examples: int = 20) -> None:
        self.matcher = matcher
        self.top, self.examples = top, examples
        self.per_name: Counter[int] = Counter()
        self.covered: Counter[str] = Counter()  # sentences with >= 1 span of the type
        self.tokens_labelled: Counter[str] = Counter()
        self.sentences = self.tokens = self.sentences_any = 0

    def add(self, n_tokens: int, spans: Iterable[tuple[int, int, int]]) -> None:
        self.sentences += 1
        self.tokens += n_tokens
        types = set()
        for i, j, idx in spans:
            self.per_name[idx] += 1
            t = self.matcher.entries[idx].type
            self.tokens_labelled[t] += j - i
            types.add(t)
        for t in types:
            self.covered[t] += 1
        self.sentences_any += bool(types)

    def report(self) -> dict[str, Any]:
        lex = self.matcher.lexicon
        spans: Counter[str] = Counter()
        for idx, c in self.per_name.items():
            spans[self.matcher.entries[idx].type] += c
        out: dict[str, Any] = {
            "sentences": self.sentences, "tokens": self.tokens, "sentences_covered": self.sentences_any,
            "rules": asdict(lex.rules) | {"priority": list(lex.priority)},
            "stop_list": None if lex.stop_source is None else {
                "source": lex.stop_source, "entries": lex.stop_entries, "unused": lex.stop_unused},
            "types": {},
        }
        first = 0
        for t, tl in lex.types.items():
            idxs = range(first, first + len(tl.entries))
            first += len(tl.entries)
            never = [self.matcher.entries[i].name for i in idxs if self.per_name[i] == 0]
            ranked = sorted((i for i in idxs if self.per_name[i]), key=lambda i: (-self.per_name[i], i))
            out["types"][t] = {
                "dictionary": tl.source,
                "names_read": tl.names_read,
                "names_loaded": len(tl.entries),
                "names_case_sensitive": sum(e.case_sensitive for e in tl.entries),
                "names_dropped": {r: len(v) for r, v in tl.dropped.items()},
                "dropped_examples": {r: [n.text for n in v[:self.examples]] for r, v in tl.dropped.items()},
                "spans_matched": spans[t],
                "tokens_labelled": self.tokens_labelled[t],
                "sentences_covered": self.covered[t],
                "names_matched": len(tl.entries) - len(never),
                "names_never_matched": len(never),
                "never_matched_examples": [n.text for n in never[:self.examples]],
                "top_matches": [{"name": self.matcher.entries[i].name.text, "line": self.matcher.entries[i].name.line,
                                 "spans": self.per_name[i]} for i in ranked[:self.top]],
            }
        return out
