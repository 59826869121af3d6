"""Entity-level scores (bioner.data.metrics): predict's spans scored conlleval-style, per-entity + micro, support,
type restriction."""

from __future__ import annotations

import conlleval
import pytest

from bioner.data.metrics import entity_scores, flat

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


def test_exact_boundaries_and_i_starts() -> None:
    gold = [["B-Gene", "I-Gene", "O"]]
    # a span predicted with an I- start is the span predict emits: a hit here (strict IOB2 would drop it)
    assert entity_scores(gold, [["I-Gene", "I-Gene", "O"]])["micro"]["f1"] == 1.0
    # ... and a false positive where it is wrong (strict IOB2 ignored it: precision stayed 1.0)
    wrong = entity_scores(gold, [["B-Gene", "I-Gene", "I-Chemical"]])
    assert _prf(wrong["micro"])[:2] == pytest.approx((0.5, 1.0))
    # both boundaries must match exactly
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


def _spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Exact spans by an independent reading of conlleval's chunk rules (not via corpus.repair_iob2)."""
    out, start, typ = set(), None, None
    for i, t in enumerate([*tags, "O"]):
        ends = t == "O" or t.startswith("B-") or t[2:] != typ
        if start is not None and ends:
            out.add((start, i - 1, typ))
            start, typ = None, None
        if t != "O" and start is None:
            start, typ = i, t[2:]
    return out


def test_agrees_with_independent_span_count() -> None:
    """The headline F1 equals a count of exact (start, end, type) matches of predict's spans."""
    gold = [["B-Chemical", "I-Chemical", "O", "B-Disease", "I-Disease", "O", "B-Chemical"],
            ["O", "B-Disease", "O", "B-Chemical", "I-Chemical", "I-Chemical", "O"],
            ["B-Disease", "O", "O", "O"]]
    pred = [["I-Chemical", "I-Chemical", "O", "B-Disease", "I-Chemical", "O", "I-Chemical"],
            ["O", "I-Disease", "I-Disease", "B-Chemical", "I-Chemical", "I-Chemical", "I-Disease"],
            ["B-Disease", "I-Disease", "O", "I-Chemical"]]
    tp = fp = fn = 0
    for g, p in zip(gold, pred, strict=True):
        gs, ps = _spans(g), _spans(p)
        tp, fp, fn = tp + len(gs & ps), fp + len(ps - gs), fn + len(gs - ps)
    assert (tp, fp, fn) == (3, 6, 3)  # hand count: the I- starts at (0,1) and (6,6) are hits
    s = entity_scores(gold, pred)
    p_, r_ = tp / (tp + fp), tp / (tp + fn)
    assert _prf(s["micro"])[:3] == pytest.approx((p_, r_, 2 * p_ * r_ / (p_ + r_)), abs=1e-12)


def test_agrees_with_conlleval() -> None:
    """Per type and micro, the scores equal CoNLL's conlleval (the `conlleval` package, a port of conlleval.pl)
    on the same tags, I- starts, type changes inside a span and adjacent spans included."""
    gold = [["B-Chemical", "I-Chemical", "O", "B-Disease", "I-Disease", "B-Disease", "O", "B-Chemical"],
            ["O", "B-Disease", "O", "B-Chemical", "I-Chemical", "I-Chemical", "O", "O"]]
    pred = [["I-Chemical", "I-Chemical", "O", "B-Disease", "I-Chemical", "I-Disease", "O", "I-Chemical"],
            ["O", "I-Disease", "I-Disease", "B-Chemical", "I-Chemical", "I-Chemical", "I-Disease", "B-Disease"]]
    lines = [line for g, p in zip(gold, pred, strict=True)
             for line in [*(f"w {a} {b}" for a, b in zip(g, p, strict=True)), ""]]
    ref = conlleval.evaluate(lines)
    s = entity_scores(gold, pred)
    pairs = [(s["micro"], ref["overall"]["chunks"])] + [(s["per_entity"][t], ref["slots"]["chunks"][t])
                                                         for t in ("Chemical", "Disease")]
    for ours, theirs in pairs:
        assert (ours["precision"], ours["recall"], ours["f1"]) == pytest.approx(
            (theirs["evals"]["prec"], theirs["evals"]["rec"], theirs["evals"]["f1"]), abs=1e-4)
        assert ours["support"] == theirs["stats"]["gold"]
    # hand count: hits (0,1) Chemical from an I- start, (5,5) Disease after a type change, (7,7), (3,5)
    assert ref["overall"]["chunks"]["stats"] == {"gold": 6, "pred": 9, "correct": 4}
