"""Score a Tagger on a gold file: one label view, only the types the file is gold for (`Tagger.evaluate`,
`bioner evaluate --test_file`; the named test sets of `bioner.tagging.evaluation` score through the same
`score`), optionally writing CoNLL `token gold pred` lines.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data.corpus import Corpus, load_corpus
from ..data.metrics import entity_scores, scoring_views
from ..io.atomic import atomic_open, write_json
from ..settings.labels import CONFIG_TYPES_KEY, FIELD_FULL, FIELD_GOLD, TYPE_NAME_RULE, CheckpointTypes, valid_type_name
from .inference import tag_words
from .load import EvaluateError

if TYPE_CHECKING:
    from .tagger import Tagger

log = logging.getLogger(__name__)

FIELDS = (FIELD_GOLD, FIELD_FULL)


def check_types(types: tuple[str, ...]) -> None:
    """`types` must be non-empty valid type names without repeats (EvaluateError otherwise)."""
    bad = [t for t in types if not valid_type_name(t)]
    if not types or bad or len(set(types)) != len(types):
        what = "is empty" if not types else (f"has invalid type name(s) {bad}" if bad else "repeats a type")
        raise EvaluateError(f"types {','.join(types)!r} {what}; a type name is {TYPE_NAME_RULE} "
                            "(comma-separated, e.g. --types Gene,Disease)")


def checkpoint_types(tagger: Tagger) -> CheckpointTypes:
    cfg = tagger.model.config
    return CheckpointTypes.from_config(cfg.label2id, getattr(cfg, CONFIG_TYPES_KEY, None))


def evaluate_file(tagger: Tagger, path: str | Path, *, types: tuple[str, ...] | None = None,
                  field: str | None = None, batch_size: int = 64, output: str | Path | None = None,
                  conll: str | Path | None = None, corpus: Corpus | None = None) -> dict[str, Any]:
    """Micro and per-entity P/R/F1 (+ gold-span support) of `tagger` on the gold file `path` (Tagger.evaluate).

    The file is gold only for `types` (default: the types present in its `field`, default
    decoded_tags_pseudo_final); gold and predicted spans of other types are set to O. EvaluateError if the model
    predicts none of them. `corpus`: the file already loaded (in `field`)."""
    field = field or FIELD_FULL
    if field not in FIELDS:
        raise EvaluateError(f"field {field!r}: allowed: {', '.join(FIELDS)}")
    if types is not None:
        check_types(types)
    if corpus is None or corpus.field != field:
        corpus = load_corpus(path, field)
    present = tuple(dict.fromkeys(t[2:] for seq in corpus.tags for t in seq if t != "O"))
    if types is None:
        types = present
        if not types:
            raise EvaluateError(f"{path}: no gold span in field {field!r}, so the types it is gold for are unknown; "
                                "pass them (--types Gene,Virus / types=...)")
    elif not set(types) & set(present):
        # every F1 would be 0 by construction (no gold span to find): most likely the wrong --field or --types
        raise EvaluateError(f"{path}: no gold span of {', '.join(types)} in field {field!r} (it has "
                            f"{', '.join(present) or 'none'}): nothing to score. Fix: --field or --types")
    missing = [t for t in types if t not in tagger.entity_types]
    if len(missing) == len(types):
        raise EvaluateError(f"{path}: scored on {', '.join(types)}, but the model ({tagger.source}) predicts only "
                            f"{', '.join(tagger.entity_types)}: nothing to score. Fix: --types with types of the "
                            "model, or a model trained on these types")
    if missing:
        log.warning("%s: the model does not predict %s; their F1 will be 0", path, missing)
    res = score(tagger, corpus, types, batch_size, conll)
    result = {"file": str(path), "field": field, "sentences": len(corpus), "annotated_types": list(types),
              "checkpoint": tagger.source, "applicable": True, **res}
    if output is not None:
        write_json(output, result)
    return result


def score(tagger: Tagger, corpus: Corpus, types: tuple[str, ...], batch_size: int,
           conll: str | Path | None) -> dict[str, Any]:
    preds = [p.labels for p in tag_words(corpus.tokens, tagger.tokenizer, tagger.model, batch_size=batch_size,
                                         max_length=tagger.max_length, device=tagger.device)]
    if conll is not None:
        write_conll(conll, corpus.tokens, *scoring_views(corpus.tags, preds, types))
    return entity_scores(corpus.tags, preds, types)


def _conll_token(token: str) -> str:
    # conlleval splits lines on whitespace: a token must be one non-empty field
    return re.sub(r"\s+", "_", token) or "_"


def write_conll(path: str | Path, tokens: list[list[str]], gold: list[list[str]], pred: list[list[str]]) -> None:
    """`token gold pred` per word, a blank line after each sentence: the input of CoNLL's conlleval script."""
    with atomic_open(path) as fh:
        for words, g, p in zip(tokens, gold, pred, strict=True):
            fh.writelines(f"{_conll_token(w)} {a} {b}\n" for w, a, b in zip(words, g, p, strict=True))
            fh.write("\n")
