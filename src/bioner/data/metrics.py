"""Entity-level scores of the spans `bioner predict` emits (conlleval-compatible), on words only.

One scoring path for validation, `bioner evaluate` and predict: the predicted tags are first repaired to valid
IOB2 exactly as predict does (corpus.repair_iob2: an I-X that does not continue an X span starts one), then
scored with seqeval's default (conlleval-compatible) mode. Strict-IOB2 scoring of the raw tags would silently
drop every predicted span that starts with I- (neither a hit nor a false positive), so the reported F1 would not
be the F1 of the spans users get.
"""

from __future__ import annotations

from seqeval.metrics import classification_report

from ..settings.labels import COLUMNS
from .corpus import repair_iob2


def entity_scores(gold: list[list[str]], pred: list[list[str]],
                  types: tuple[str, ...] | None = None) -> dict:
    """Micro and per-entity precision/recall/F1 with gold-span support.

    `pred` is repaired to IOB2 first (as predict reads spans). If `types` is given, only those types are scored:
    both sequences are restricted to them after the repair, so a correct prediction of a type the test set does
    not annotate is not a false positive.
    """
    gold, pred = scoring_views(gold, pred, types)
    rep = classification_report(gold, pred, output_dict=True, zero_division=0)
    entity_types = types if types is not None else tuple(
        sorted({t[2:] for seq in gold + pred for t in seq if t != "O"}))
    out: dict = {"micro": _row(rep.get("micro avg"), gold_support=_support(gold, entity_types)),
                 "per_entity": {}}
    for t in entity_types:
        out["per_entity"][t] = _row(rep.get(t), gold_support=_support(gold, (t,)))
    return out


def scoring_views(gold: list[list[str]], pred: list[list[str]], types: tuple[str, ...] | None = None
                  ) -> tuple[list[list[str]], list[list[str]]]:
    """The tag sequences that are scored: `pred` IOB2-repaired (as predict reads spans), then both restricted to
    `types` (other types set to O). `bioner evaluate --conll` writes exactly these."""
    from ..settings.labels import restrict_to_types

    pred = [repair_iob2(p)[0] for p in pred]
    if types is not None:
        gold = [restrict_to_types(g, types) for g in gold]
        pred = [restrict_to_types(p, types) for p in pred]
    return gold, pred


def _support(gold: list[list[str]], types: tuple[str, ...]) -> int:
    return sum(1 for seq in gold for t in seq if t.startswith("B-") and t[2:] in types)


def _row(r: dict | None, gold_support: int) -> dict:
    r = r or {}
    seqeval = {"precision": "precision", "recall": "recall", "f1": "f1-score"}
    return {c: int(gold_support) if c == "support" else float(r.get(seqeval[c], 0.0)) for c in COLUMNS}


def flat(scores: dict, prefix: str = "") -> dict[str, float]:
    """{'micro': {...}, 'per_entity': {'Gene': {...}}} -> {'f1': .., 'f1_Gene': .., ...}."""
    out = {f"{prefix}{k}": v for k, v in scores["micro"].items() if k != "support"}
    for t, row in scores["per_entity"].items():
        for k, v in row.items():
            if k != "support":
                out[f"{prefix}{k}_{t}"] = v
    return out
