"""Relabel a corpus file from dictionaries, and score a dictionary labelling against a gold file.

The corpus is read and validated first (file:line errors), the output is written atomically
(`bioner.io.atomic`), so a bad input or a crash leaves no half-written file and an existing output unchanged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data.corpus import load_corpus
from ..data.metrics import entity_scores
from ..io.atomic import atomic_open, write_json
from ..settings.labels import FIELD_FULL, FIELD_GOLD, bio_label2id
from .errors import DistantError
from .lexicon import MatchRules, load_lexicon
from .matcher import Matcher
from .quality import QualityCounter

#: Record field of the ids of matched names with a canonical id: [[start, end, type, id], ...].
FIELD_IDS = "distant_ids"


def label_corpus(src: str | os.PathLike, dst: str | os.PathLike, matcher: Matcher, *,
                 only_gold_o: bool = False, report_path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Write `dst`: each record of `src` with `decoded_tags_pseudo_final` recomputed from the dictionaries.

    The gold view (`decoded_tags`) and any other field are kept. Without `only_gold_o` the new view holds the
    dictionary matches only (the silver corpus: its gold view is all O); with it, the gold spans plus matches
    on tokens that are O in gold (the seed's 9-tag view of BC5CDR: a silver span never overlaps a gold one).
    Records with a canonical id on a matched name get `distant_ids`. Returns the quality report (also
    written to `report_path` as JSON if given). Empty sentences are dropped (counted by the loader).
    """
    gold_types = matcher.lexicon.gold_types  # the gold view may hold these only (any, if none were given)
    corpus = load_corpus(src, FIELD_GOLD, bio_label2id(gold_types) if gold_types else None, keep_extra=True,
                         space="the gold types: sources.gold" if gold_types else "")
    qc = QualityCounter(matcher)
    ids = {i: e for i, e in enumerate(matcher.entries) if e.name.canonical_id is not None}
    with atomic_open(dst) as fh:
        for toks, gold, extra in zip(corpus.tokens, corpus.tags, corpus.extra, strict=True):
            tags, spans = matcher.tags(toks, gold if only_gold_o else None)
            qc.add(len(toks), spans)
            rec: dict[str, Any] = {"tokens": toks, FIELD_GOLD: gold, FIELD_FULL: tags}
            rec.update((k, v) for k, v in extra.items() if k != FIELD_IDS)
            if ids:
                linked = [[i, j, ids[k].type, ids[k].name.canonical_id] for i, j, k in spans if k in ids]
                if linked:
                    rec[FIELD_IDS] = linked
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    report = qc.report() | {"corpus": str(src), "output": str(dst), "only_gold_o": only_gold_o,
                            "empty_sentences_dropped": corpus.skipped_empty}
    if report_path is not None:
        write_json(report_path, report)
    return report


def score_labelling(gold_path: str | os.PathLike, matcher: Matcher, types: tuple[str, ...] | None = None,
                    *, gold_field: str = FIELD_FULL) -> dict[str, Any]:
    """Strict span P/R/F1 per type of the dictionary labelling of `gold_path`'s tokens against its gold tags.

    `types` (default: every dictionary type) are the types the gold file annotates; others are ignored on
    both sides (as `bioner evaluate` does).
    """
    known = matcher.lexicon.priority
    types = tuple(types) if types else known
    bad = [t for t in types if t not in known]
    if bad:
        raise DistantError(f"--types {','.join(types)}: {bad} not among the dictionary types; allowed: "
                           f"{', '.join(known)}")
    gold = load_corpus(gold_path, gold_field)  # any well-formed types: only `types` are scored
    pred = [matcher.tags(toks)[0] for toks in gold.tokens]
    scores = entity_scores(gold.tags, pred, types)
    return scores | {"gold": str(Path(gold_path)), "gold_field": gold_field, "types": list(types),
                     "sentences": len(gold)}


def relabel(src: str | os.PathLike, dst: str | os.PathLike, dictionaries: Mapping[str, str | os.PathLike], *,
            rules: MatchRules | None = None, stop: str | os.PathLike | Sequence[str] | None = None,
            gold_types: Sequence[str] = (), base_dir: str | os.PathLike | None = None, only_gold_o: bool = False,
            report_path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Read and check every dictionary and the stop list, then `label_corpus`: a bad input writes nothing."""
    matcher = Matcher(load_lexicon(dictionaries, rules, stop, gold_types, base_dir))
    return label_corpus(src, dst, matcher, only_gold_o=only_gold_o, report_path=report_path)
