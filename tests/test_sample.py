"""Tests for the synthetic sample corpus (bioner.data.sample)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bioner.data.sample import (
    ACRONYMS,
    DEFAULT_SIZES,
    generate_split,
    held_out_forms,
    write_sample_corpus,
)
from bioner.settings.labels import DATA_FILES, FIELD_FULL, FIELD_GOLD, SEED_TYPES, restrict_to_types

L9 = SEED_TYPES.scheme("gold+silver").label2id
L5 = SEED_TYPES.scheme("gold").label2id

SMALL = {"train": 40, "validation": 10, "test_bc5cdr": 10, "silver": 60, "test_pubmed": 10}
TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def _spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, type) of each IOB2 span."""
    spans, i = [], 0
    while i < len(tags):
        if tags[i].startswith("B-"):
            j = i + 1
            while j < len(tags) and tags[j] == f"I-{tags[i][2:]}":
                j += 1
            spans.append((i, j, tags[i][2:]))
            i = j
        else:
            i += 1
    return spans


def _valid_iob2(tags: list[str]) -> bool:
    prev = "O"
    for t in tags:
        if t.startswith("I-") and prev[2:] != t[2:]:
            return False
        prev = t
    return True


def _read(root: Path, key: str) -> list[dict]:
    return [json.loads(line) for line in (root / DATA_FILES[key]).read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("sample")
    return root, write_sample_corpus(root, seed=0)


def test_files_and_counts(corpus: tuple[Path, dict[str, int]]) -> None:
    root, counts = corpus
    assert counts == DEFAULT_SIZES
    expected = {"train": 1000, "validation": 200, "test_bc5cdr": 200, "silver": 4000, "test_pubmed": 200}
    assert expected == DEFAULT_SIZES
    for key, rel in DATA_FILES.items():
        assert (root / rel).is_file()
        assert len(_read(root, key)) == counts[key]
    leftovers = [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []


def test_deterministic(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert write_sample_corpus(a, seed=3, sizes=SMALL) == SMALL
    write_sample_corpus(b, seed=3, sizes=SMALL)
    write_sample_corpus(c, seed=4, sizes=SMALL)
    for rel in DATA_FILES.values():
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
        assert (a / rel).read_bytes() != (c / rel).read_bytes()


def test_sizes_override_and_unknown_split(tmp_path: Path) -> None:
    counts = write_sample_corpus(tmp_path / "x", sizes={"silver": 7, "train": 0})
    assert counts == {**DEFAULT_SIZES, "silver": 7, "train": 0}
    with pytest.raises(KeyError):
        write_sample_corpus(tmp_path / "y", sizes={"dev": 3})


def test_files_match_generator(corpus: tuple[Path, dict[str, int]]) -> None:
    root, counts = corpus
    for key in DATA_FILES:
        assert _read(root, key) == [s.record() for s in generate_split(key, counts[key], seed=0)]


def test_records_valid(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    for key in DATA_FILES:
        for rec in _read(root, key):
            assert list(rec) == ["tokens", FIELD_GOLD, FIELD_FULL]
            n = len(rec["tokens"])
            assert n > 0 and len(rec[FIELD_GOLD]) == n and len(rec[FIELD_FULL]) == n
            assert all(TOKEN_RE.fullmatch(t) for t in rec["tokens"]), rec["tokens"]
            assert set(rec[FIELD_GOLD]) <= set(L5)
            assert set(rec[FIELD_FULL]) <= set(L9)
            assert _valid_iob2(rec[FIELD_GOLD]) and _valid_iob2(rec[FIELD_FULL])


def test_bc5cdr_views(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    for key in ("train", "validation", "test_bc5cdr"):
        recs = _read(root, key)
        for rec in recs:
            assert rec[FIELD_GOLD] == restrict_to_types(rec[FIELD_FULL], ("Chemical", "Disease"))
        with_gv = sum(any(t[2:] in ("Gene", "Virus") for t in r[FIELD_FULL]) for r in recs)
        assert 0.1 < with_gv / len(recs) < 0.35
        assert sum(any(t != "O" for t in r[FIELD_GOLD]) for r in recs) / len(recs) > 0.8


def test_pubmed_views(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    for key in ("silver", "test_pubmed"):
        recs = _read(root, key)
        assert all(set(r[FIELD_GOLD]) == {"O"} for r in recs)
        assert all(t == "O" or t[2:] in ("Gene", "Virus") for r in recs for t in r[FIELD_FULL])
        types = Counter(span[2] for r in recs for span in _spans(r[FIELD_FULL]))
        assert types["Gene"] > 0.3 * len(recs) and types["Virus"] > 0.3 * len(recs)


def test_all_types_occur(corpus: tuple[Path, dict[str, int]]) -> None:
    root, _ = corpus
    types = Counter(span[2] for key in DATA_FILES for r in _read(root, key) for span in _spans(r[FIELD_FULL]))
    assert set(types) == {"Chemical", "Disease", "Virus", "Gene"}
    multi = [r for r in _read(root, "train") if any(e - s > 2 for s, e, _ in _spans(r[FIELD_FULL]))]
    assert multi, "expected multi-token entities"


def test_silver_noise() -> None:
    sentences = generate_split("silver", DEFAULT_SIZES["silver"], seed=0)
    true_spans = missed = false_pos = 0
    for s in sentences:
        labelled = set(_spans(s.tags9))
        for span in _spans(restrict_to_types(s.gold, ("Gene", "Virus"))):
            true_spans += 1
            missed += span not in labelled
        false_pos += sum(1 for span in labelled if s.gold[span[0]] == "O")
        for i, j, _ in labelled:
            if s.gold[i] == "O":
                assert j == i + 1 and s.tokens[i] in ACRONYMS
    assert 0.05 < missed / true_spans < 0.15
    assert 0 < false_pos < 0.1 * len(sentences)
    # Chemical/Disease mentions occur in silver, unlabelled.
    with_cd = sum(any(t[2:] in ("Chemical", "Disease") for t in s.gold) for s in sentences)
    assert 0 < with_cd < 0.25 * len(sentences)


def test_pubmed_test_is_clean() -> None:
    for s in generate_split("test_pubmed", DEFAULT_SIZES["test_pubmed"], seed=0):
        assert s.tags9 == restrict_to_types(s.gold, ("Gene", "Virus"))


def test_held_out_forms_only_outside_training() -> None:
    def mentions(key: str) -> set[tuple[str, ...]]:
        sentences = generate_split(key, DEFAULT_SIZES[key], seed=0)
        return {tuple(s.tokens[i:j]) for s in sentences for i, j, _ in _spans(s.gold)}

    held = {f for kind in "CDVG" for f in held_out_forms(kind)}
    assert held
    assert not held & (mentions("train") | mentions("silver"))
    assert held & mentions("test_bc5cdr") and held & mentions("test_pubmed")


# ---------------------------------------------------------------------------------------------------------------
# the fifth-type variant (extra_types): a silver type in the gold+silver view only, the rest of the sample unchanged
@pytest.mark.parametrize("key", list(DATA_FILES))
def test_species_variant_adds_a_silver_type_and_keeps_everything_else(key: str) -> None:
    base = generate_split(key, 300, seed=0)
    variant = generate_split(key, 300, seed=0, extra_types=("Species",))
    n_species = 0
    for b, v in zip(base, variant, strict=True):
        if v.tokens == b.tokens:
            assert v == b
            continue
        cut, k = len(b.tokens) - 1, len(v.tokens) - len(b.tokens)  # a phrase inserted before the final "."
        ins = v.gold[cut:cut + k]
        assert v.tokens[:cut] + v.tokens[cut + k:] == b.tokens and v.gold[:cut] + v.gold[cut + k:] == b.gold
        assert {t[2:] for t in ins if t != "O"} == {"Species"}
        assert v.tags5 == b.tags5[:cut] + ["O"] * k + b.tags5[cut:]  # never in the gold view
        assert v.tags9[:cut] + v.tags9[cut + k:] == b.tags9 and v.tags9[cut:cut + k] in (ins, ["O"] * k)
        if key == "test_pubmed":  # the PubMed test is clean for the extra type too
            assert v.tags9[cut:cut + k] == ins
        n_species += len(_spans(ins))
    assert 0.1 * len(base) < n_species < 0.45 * len(base)


def test_species_variant_holds_forms_out_and_is_missed_like_silver(tmp_path: Path) -> None:
    write_sample_corpus(tmp_path, sizes=SMALL, extra_types=("Species",))
    held = set(held_out_forms("P"))
    for key in DATA_FILES:
        for rec in _read(tmp_path, key):
            for i, j, etype in _spans(rec[FIELD_FULL]):
                if etype == "Species" and key in ("train", "silver"):
                    assert tuple(rec["tokens"][i:j]) not in held
    silver = generate_split("silver", 2000, seed=0, extra_types=("Species",))
    truth = sum(len(_spans(restrict_to_types(s.gold, ("Species",)))) for s in silver)
    labelled = sum(len(_spans(restrict_to_types(s.tags9, ("Species",)))) for s in silver)
    assert 0.8 < labelled / truth < 0.97  # the dictionary pass misses about MISS_RATE of them
    with pytest.raises(KeyError, match="unknown extra type"):
        generate_split("train", 3, extra_types=("Protein",))
