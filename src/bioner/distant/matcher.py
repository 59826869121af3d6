"""Multi-pattern matching of dictionary names over token sequences: a token trie, longest match first.

Hand-written rather than Aho-Corasick (pyahocorasick): the rules are token-level (a name matches whole
corpus tokens only; case sensitivity is per name; a match may not cross a blocked token), which a character
automaton would have to re-check on every hit, and the greedy longest-leftmost rule needs only the matches
starting at each position, which a trie walk of at most `max_tokens` steps gives. docs/benchmarks.md has the
measured speed against a per-name scan.

The trie is keyed on case-folded tokens; a node whose path spells a name holds, under the key "" (never a
token), the names ending there in priority order: (exact tokens or None when case-insensitive, entry index).
"""

from __future__ import annotations

from collections.abc import Sequence

from .lexicon import Entry, Lexicon, fold

_END = ""  # trie key of a node's names; corpus tokens are never empty


class Matcher:
    """Greedy left-to-right, longest-first matching of a lexicon's names; ties go to the higher-priority type."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.entries: list[Entry] = lexicon.entries()  # priority order (types in order, file order within)
        root: dict = {}
        for idx, e in enumerate(self.entries):
            node = root
            for tok in e.key:
                node = node.setdefault(tok, {})
            node[_END] = (*node.get(_END, ()), (e.name.tokens if e.case_sensitive else None, idx))
        self.root = root

    def find(self, tokens: Sequence[str], blocked: Sequence[bool] | None = None) -> list[tuple[int, int, int]]:
        """Spans (start, end, entry index) in `tokens`, end exclusive, non-overlapping, left to right.

        At each position the longest name that matches wins (the highest-priority type on a tie), the scan
        resumes after it. A span never includes a token whose `blocked` flag is true.
        """
        low = list(map(fold, tokens))
        root = self.root
        n = len(low)
        if blocked is None:
            starts = [i for i, t in enumerate(low) if t in root]  # in C: most tokens start no name
        else:
            starts = [i for i, t in enumerate(low) if t in root and not blocked[i]]
        spans: list[tuple[int, int, int]] = []
        resume = 0
        for i in starts:
            if i < resume:
                continue
            node = root
            best = None
            j = i
            while j < n and (blocked is None or not blocked[j]):
                node = node.get(low[j])
                if node is None:
                    break
                j += 1
                names = node.get(_END)
                if names is not None:
                    for exact, idx in names:
                        if exact is None or tuple(tokens[i:j]) == exact:
                            best = (i, j, idx)
                            break
            if best is not None:
                spans.append(best)
                resume = best[1]
        return spans

    def tags(self, tokens: Sequence[str], base: Sequence[str] | None = None) -> tuple[list[str], list]:
        """IOB2 tags: `base` (default all O) with the matches written on its O tokens; and the spans."""
        if base is None:
            out = ["O"] * len(tokens)
            spans = self.find(tokens)
        else:
            out = list(base)
            spans = self.find(tokens, [t != "O" for t in base]) if any(t != "O" for t in base) else self.find(tokens)
        for i, j, idx in spans:
            t = self.entries[idx].type
            out[i] = "B-" + t
            if j - i > 1:
                out[i + 1:j] = ["I-" + t] * (j - i - 1)
        return out, spans
