"""Entity-level scores (bioner.metrics): seqeval strict IOB2, per-entity + micro, support, type restriction."""

from __future__ import annotations

import pytest

from bioner.metrics import entity_scores, flat

GOLD = [["B-Chemical", "I-Chemical", "O", "B-Disease"], ["B-Gene", "O", "B-Chemical"]]
PRED = [["B-Chemical", "I-Chemical", "O", "O"], ["B-Gene", "O", "B-Disease"]]


def _prf(row: dict) -> tuple[float, float, float, int]:
    return row["precision"], row["recall"], row["f1"], row["support"]


def test_per_entity_and_micro() -> None:
    s = entity_scores(GOLD, PRED)
    assert set(s["per_entity"]) == {"Chemical", "Disease", "Gene"}
    assert _prf(s["per_entity"]["Chemical"]) == pytest.approx((1.0, 0.5, 2 / 3, 2))
    assert _prf(s["per_entity"]["Disease"]) == pytest.approx((0.0, 0.0, 0.0, 1))
    assert _prf(s["per_entity"]["Gene"]) == pytest.approx((1.0, 1.0, 1.0, 1))
    # micro: 2 correct of 3 predicted, 4 gold
    assert _prf(s["micro"]) == pytest.approx((2 / 3, 0.5, 4 / 7, 4))


def test_restricted_types_ignore_other_predictions() -> None:
    gold = [["B-Chemical", "O", "B-Gene"]]  # a test set annotating only Gene: the Chemical is not gold
    pred = [["B-Chemical", "O", "B-Gene"]]
    s = entity_scores(gold, pred, ("Virus", "Gene"))
    assert set(s["per_entity"]) == {"Virus", "Gene"}
    assert _prf(s["micro"]) == pytest.approx((1.0, 1.0, 1.0, 1))
    assert s["per_entity"]["Virus"]["support"] == 0
    # without restriction the same prediction would be scored on Chemical as well
    assert entity_scores([["O", "O", "B-Gene"]], pred)["micro"]["precision"] == pytest.approx(0.5)


def test_strict_iob2() -> None:
    gold = [["B-Gene", "I-Gene", "O"]]
    # an entity must start with B- and match both boundaries exactly
    assert entity_scores(gold, [["I-Gene", "I-Gene", "O"]])["micro"]["f1"] == 0.0
    assert entity_scores(gold, [["B-Gene", "O", "O"]])["micro"]["f1"] == 0.0
    assert entity_scores(gold, [["B-Gene", "I-Gene", "O"]])["micro"]["f1"] == 1.0
    # adjacent spans of one type are two entities
    two = [["B-Gene", "B-Gene"]]
    assert entity_scores(two, two)["micro"]["support"] == 2


def test_no_predictions_no_entities() -> None:
    s = entity_scores([["O", "B-Gene"]], [["O", "O"]], ("Gene",))
    assert _prf(s["micro"]) == (0.0, 0.0, 0.0, 1)


def test_flat() -> None:
    f = flat(entity_scores(GOLD, PRED), prefix="test_")
    assert f["test_f1"] == pytest.approx(4 / 7)
    assert f["test_recall_Chemical"] == pytest.approx(0.5)
    assert "test_support" not in f and "test_support_Gene" not in f
    assert len(f) == 3 + 3 * 3
