"""The model card's text is derived from the checkpoint's label map and the run's settings: a type is data."""

from __future__ import annotations

import re
from pathlib import Path

from bioner.settings.labels import SEED_TYPES
from bioner.tagging import model_card as card_module
from bioner.tagging.model_card import model_card


def _labels(types: list[str]) -> list[str]:
    return ["O"] + [f"{p}-{t}" for t in types for p in "BI"]


def _snapshot(gold: list[str], silver: list[str], strategy: str = "joint_uniform") -> dict:
    return {"strategy": strategy, "backbone": "tiny", "seed": 7, "sources": {"gold": gold, "silver": silver},
            "silver": {"ratio": "1"}, "data": {"source": "sample", "sample_seed": 0},
            "resolved": {"model_id": "tiny", "learning_rate": 5e-4}}


def test_a_fifth_type_is_named_and_absent_types_are_not() -> None:
    metrics = {"bc5cdr_f1": 0.5, "bc5cdr_f1_Chemical": 0.6, "pubmed_f1": 0.4, "pubmed_f1_Species": 0.4,
               "pubmed_precision_Species": 0.3, "pubmed_recall_Species": 0.5, "pubmed_support_Species": 12}
    text = model_card("lab/m", _labels(["Chemical", "Disease", "Species"]),
                      _snapshot(["Chemical", "Disease"], ["Species"]), metrics)
    assert "**Chemical, Disease, Species**" in text
    assert "| pubmed | Species | 0.3000 | 0.5000 | 0.4000 | 12 |" in text
    assert "gold for Species only" in text and "Species is learned from **silver** labels" in text
    assert not re.search(r"\b(Gene|Virus)\b", text), "a type the checkpoint lacks is named"


def test_a_gold_only_model_names_only_its_gold_types() -> None:
    gold = list(SEED_TYPES.gold)
    text = model_card("lab/m", _labels(gold), _snapshot(gold, [], strategy="single_source"), None)
    assert f"it knows {' and '.join(gold)}, nothing else" in text and "| pubmed |" not in text
    assert "No test scores were given" in text


def test_the_card_module_names_no_entity_type() -> None:
    source = Path(card_module.__file__).read_text(encoding="utf-8")
    named = [t for t in (*SEED_TYPES.gold, *SEED_TYPES.silver) if re.search(rf"\b{t}\b", source)]
    assert not named, named
