"""Score a model on a gold file (docs/design.md s.3): one label view of the file, only the types it is gold for.
Needs no settings: the checkpoint's config carries its label map and its run's gold/silver types.

`evaluate` scores a named test set of bioner.settings.labels.TEST_SETS (its path, view and the rule for the types
it annotates), which is what the pipeline runs; any other gold file is scored by bioner.tagging.scoring, through the
same `score`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..data.corpus import load_corpus
from ..io.atomic import write_json
from ..settings.labels import TEST_SETS, TestSet, bio_label2id, canonical_test_set
from .load import EvaluateError
from .scoring import checkpoint_types, score
from .tagger import Tagger

log = logging.getLogger(__name__)


def resolve_test_set(test_set: str | TestSet, data_dir: str | Path) -> tuple[TestSet, Path]:
    """A test set (a TestSet, or the name of a default one) and its file (relative to `data_dir`, or absolute)."""
    if isinstance(test_set, str):
        name = canonical_test_set(test_set)
        if name not in TEST_SETS:
            raise ValueError(f"unknown test set {test_set!r}; allowed: {', '.join(TEST_SETS)}")
        test_set = TEST_SETS[name]
    return test_set, Path(data_dir) / test_set.path


def evaluate(checkpoint: str | Path, test_set: str | TestSet, data_dir: str | Path = "data/raw",
             output: str | Path | None = None, batch_size: int = 64, device: str | None = None,
             allow_pickle: bool = False, load: Callable[[], Any] | None = None, conll: str | Path | None = None
             ) -> dict:
    """Scores of `checkpoint` on the named `test_set`; written to `output` (and `conll`).

    `load`: returns the model as a Tagger or as (tokenizer, model), e.g. a cached loader when the caller scores
    several test sets (called after the test set is read, so a bad test file is reported first)."""
    spec, path = resolve_test_set(test_set, data_dir)
    corpus = load_corpus(path, spec.field)  # records and label syntax, before the model is loaded
    if spec.lacks_its_types(corpus.tags):
        raise EvaluateError(f"test set {spec.name}: {path} has no gold span of {', '.join(spec.types)} in "
                            f"{spec.field!r} (view {spec.view}): nothing to score. Fix: its view or types in "
                            "evaluate.test_sets")
    loaded = load() if load else Tagger.load(checkpoint, device=device, allow_pickle=allow_pickle)
    tagger = loaded if isinstance(loaded, Tagger) else Tagger(*loaded, source=str(checkpoint), device=device)
    model_types = checkpoint_types(tagger)
    known = model_types.known(spec.view)
    if known is not None and {t[2:] for seq in corpus.tags for t in seq if t != "O"} - set(known):
        # a type the checkpoint's run never had (a typo, a stray label, another schema): the file:line error
        load_corpus(path, spec.field, bio_label2id(known), space="the types the checkpoint was trained with")
    annotated = spec.annotated_types(corpus.tags, model_types)
    if not annotated:
        log.warning("%s: %s holds no entity span in %r to score", spec.name, path, spec.field)
    # A model that predicts none of the test set's types (a gold-view model on the silver-type PubMed test)
    # cannot be scored on it: the result is still written (the pipeline's outputs are the same for every
    # strategy) but marked, and `bioner aggregate` leaves it out of metrics.json.
    applicable = spec.scorable(annotated, model_types)
    missing = [t for t in annotated if t not in model_types.predicted]
    if missing:
        log.warning("%s: the model does not predict %s; %s", spec.name, missing,
                    "their F1 will be 0" if applicable else "not applicable (left out of metrics.json)")
    scores = score(tagger, corpus, annotated, batch_size, conll)
    result = {"test_set": spec.name, "file": str(path), "sentences": len(corpus),
              "annotated_types": list(annotated), "checkpoint": str(checkpoint),
              "applicable": applicable, **scores}
    if output is not None:
        write_json(output, result)
    return result
