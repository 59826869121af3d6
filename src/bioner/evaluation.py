"""Score a checkpoint on a test set (docs/design.md s.3): gold view of the test set, only its annotated types."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .atomic import write_json
from .corpus import load_corpus
from .inference import tag_words
from .labels import TEST_SETS, TestSet
from .metrics import entity_scores
from .modeling import load_checkpoint

log = logging.getLogger(__name__)


def resolve_test_set(test_set: str, data_dir: str | Path) -> tuple[TestSet, Path]:
    if test_set in TEST_SETS:
        spec = TEST_SETS[test_set]
        return spec, Path(data_dir) / spec.path
    raise ValueError(f"unknown test set {test_set!r}; allowed: {', '.join(TEST_SETS)}")


def evaluate(checkpoint: str | Path, test_set: str, data_dir: str | Path = "data/raw",
             output: str | Path | None = None, batch_size: int = 64, device: str | None = None,
             allow_pickle: bool = False, load: Callable[[], tuple[Any, Any]] | None = None) -> dict:
    """Micro and per-entity P/R/F1 (+ gold-span support) of `checkpoint` on `test_set`; written to `output`.

    `load`: returns the checkpoint's (tokenizer, model), e.g. a cached `load_checkpoint` when the caller scores
    several test sets (called after the test set is read, so a bad test file is reported first)."""
    spec, path = resolve_test_set(test_set, data_dir)
    corpus = load_corpus(path, spec.field)
    tokenizer, model = load() if load else load_checkpoint(checkpoint, allow_pickle=allow_pickle)
    model_types = {lab[2:] for lab in model.config.label2id if lab != "O"}
    missing = [t for t in spec.annotated_types if t not in model_types]
    if missing:
        log.warning("%s: the model does not predict %s; their F1 will be 0", test_set, missing)
    # A model that predicts none of the test set's types (a 5-tag model on the Virus/Gene PubMed test) cannot
    # be scored on it: the result is still written (the pipeline's outputs are the same for every strategy)
    # but marked, and `bioner aggregate` leaves it out of metrics.json.
    applicable = spec.scorable_by(model_types)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    preds = [p.labels for p in tag_words(corpus.tokens, tokenizer, model, batch_size=batch_size, device=device)]
    scores = entity_scores(corpus.tags, preds, spec.annotated_types)
    result = {"test_set": test_set, "file": str(path), "sentences": len(corpus),
              "annotated_types": list(spec.annotated_types), "checkpoint": str(checkpoint),
              "applicable": applicable, **scores}
    if output is not None:
        write_json(output, result)
    return result
