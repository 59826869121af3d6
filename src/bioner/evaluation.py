"""Score a checkpoint on a test set (docs/design.md s.3): the test set's view of its file, only the types it
annotates. Needs no settings: the checkpoint's config carries its label map and its run's gold/silver types."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .atomic import write_json
from .corpus import load_corpus
from .inference import tag_words
from .labels import CONFIG_TYPES_KEY, TEST_SETS, CheckpointTypes, TestSet, bio_label2id
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
    corpus = load_corpus(path, spec.field)  # records and label syntax, before the model is loaded
    tokenizer, model = load() if load else load_checkpoint(checkpoint, allow_pickle=allow_pickle)
    model_types = CheckpointTypes.from_config(model.config.label2id, getattr(model.config, CONFIG_TYPES_KEY, None))
    known = model_types.known(spec.view)
    if known is not None and {t[2:] for seq in corpus.tags for t in seq if t != "O"} - set(known):
        # a type the checkpoint's run never had (a typo, a stray label, another schema): the file:line error
        load_corpus(path, spec.field, bio_label2id(known), space="the types the checkpoint was trained with")
    annotated = spec.annotated_types(corpus.tags, model_types)
    if not annotated:
        log.warning("%s: %s holds no entity span in %r to score", test_set, path, spec.field)
    # A model that predicts none of the test set's types (a gold-view model on the silver-type PubMed test)
    # cannot be scored on it: the result is still written (the pipeline's outputs are the same for every
    # strategy) but marked, and `bioner aggregate` leaves it out of metrics.json.
    applicable = spec.scorable(annotated, model_types)
    missing = [t for t in annotated if t not in model_types.predicted]
    if missing:
        log.warning("%s: the model does not predict %s; %s", test_set, missing,
                    "their F1 will be 0" if applicable else "not applicable (left out of metrics.json)")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    preds = [p.labels for p in tag_words(corpus.tokens, tokenizer, model, batch_size=batch_size, device=device)]
    scores = entity_scores(corpus.tags, preds, annotated)
    result = {"test_set": test_set, "file": str(path), "sentences": len(corpus),
              "annotated_types": list(annotated), "checkpoint": str(checkpoint),
              "applicable": applicable, **scores}
    if output is not None:
        write_json(output, result)
    return result
