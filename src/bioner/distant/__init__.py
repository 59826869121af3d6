"""Distant supervision: label a corpus from one dictionary per entity type (the seed's silver method).

dictionary (read name files) -> lexicon (apply the rules: stop list, length, duplicates, priority) ->
matcher (token trie, longest match first) -> labelling (relabel a JSONL corpus, score against gold) ->
quality (the label-quality report). See docs/distant.md.
"""

from .errors import DistantError

__all__ = ["DistantError"]
