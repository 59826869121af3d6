"""Sub-token alignment (bioner.training.align): first sub-token labelled, zero-sub-token words, truncation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from datasets import Dataset

from bioner.settings.labels import SEED_TYPES
from bioner.training.align import IGNORE, empty_words, encode, first_subtoken_labels
from bioner.training.modeling import load_tokenizer

L2I = SEED_TYPES.scheme("gold+silver").label2id


@pytest.fixture(scope="module")
def tok(tiny_backbone: Path):
    return load_tokenizer(tiny_backbone)


def _expected_labels(tok, words: list[str], tags: list[str]) -> list[int]:
    """Independent reference: [CLS], then per word its label and -100 for each further sub-token, [SEP]."""
    out = [IGNORE]
    for w, t in zip(words, tags, strict=True):
        n = len(tok.tokenize(w))
        assert n >= 1, w
        out += [L2I[t]] + [IGNORE] * (n - 1)
    return out + [IGNORE]


def test_first_subtoken_labels_unit() -> None:
    assert first_subtoken_labels([None, 0, 0, 1, 2, 2, 2, None], [5, 6, 0]) == [
        IGNORE, 5, IGNORE, 6, 0, IGNORE, IGNORE, IGNORE]


def test_first_subtoken_carries_label_rest_ignored(tok) -> None:
    long_word = "cisplatinzzqxv"  # not in the tiny vocab: several WordPiece pieces
    assert len(tok.tokenize(long_word)) > 1
    words = [long_word, "induced", "hepatitis", "in", "BRCA1zzq", "carriers"]
    tags = ["B-Chemical", "O", "B-Disease", "O", "B-Gene", "O"]
    ds = encode([words], [tags], L2I, tok, max_length=128)
    row = ds[0]
    assert row["labels"] == _expected_labels(tok, words, tags)
    assert len(row["labels"]) == len(row["input_ids"]) == row["length"]
    assert [x for x in row["labels"] if x != IGNORE] == [L2I[t] for t in tags]
    assert row["truncated"] is False and row["n_words"] == len(words)


@pytest.mark.parametrize("odd", ["\u200b", "\x07", "\u0301", "", "\ufeff"])
@pytest.mark.parametrize("where", ["middle", "first", "last"])
def test_zero_subtoken_word_does_not_shift_labels(tok, odd: str, where: str) -> None:
    assert tok.tokenize(odd) == []  # the premise: the tokenizer drops it completely
    words = ["aspirin", "causes", "hepatitis"]
    tags = ["B-Chemical", "O", "B-Disease"]
    pos = {"first": 0, "middle": 2, "last": 3}[where]
    words.insert(pos, odd)
    tags.insert(pos, "B-Gene")  # a label that must land on the odd word's position, not on a neighbour
    assert empty_words(tok, words) == [pos]
    other = (["aspirin", "."], ["O", "O"])
    ds = encode([words, other[0]], [tags, other[1]], L2I, tok, max_length=128)
    row = ds[0]
    assert [x for x in row["labels"] if x != IGNORE] == [L2I[t] for t in tags]
    assert row["truncated"] is False and row["n_words"] == len(words)
    assert tok.unk_token_id in row["input_ids"]  # the odd word kept its place as [UNK]
    assert ds[1]["labels"] == _expected_labels(tok, *other)  # other rows of the batch are untouched


def test_truncation_counted_and_logged(tok, caplog: pytest.LogCaptureFixture) -> None:
    long_words = ["aspirin", "causes", "hepatitis"] * 10
    long_tags = ["B-Chemical", "O", "B-Disease"] * 10
    short = (["aspirin", "."], ["B-Chemical", "O"])
    with caplog.at_level(logging.WARNING, logger="bioner.training.align"):
        ds = encode([long_words, short[0], long_words], [long_tags, short[1], long_tags], L2I, tok,
                    max_length=12, desc="align test")
    assert ds["truncated"] == [True, False, True]
    assert max(ds["length"]) <= 12
    kept = ds[0]["n_words"]
    assert 0 < kept < len(long_words)
    assert [x for x in ds[0]["labels"] if x != IGNORE] == [L2I[t] for t in long_tags[:kept]]
    msgs = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("align test: 2 of 3 sentences longer than max_length=12" in m for m in msgs), msgs


def test_no_truncation_no_warning(tok, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bioner.training.align"):
        ds = encode([["aspirin", "\x07"]], [["B-Chemical", "O"]], L2I, tok, max_length=64)
    assert ds["truncated"] == [False]
    assert not [r for r in caplog.records if "truncated" in r.getMessage()]


def test_extra_columns_and_unlabelled(tok) -> None:
    words = [["aspirin", "."], ["hepatitis"]]
    ds = encode(words, [["B-Chemical", "O"], ["B-Disease"]], L2I, tok, 64,
                extra_columns={"weight": [1.0, 0.5], "source": [0, 1]})
    assert isinstance(ds, Dataset)
    assert ds["weight"] == [1.0, 0.5] and ds["source"] == [0, 1]
    assert "label_ids" not in ds.column_names
    plain = encode(words, None, L2I, tok, 64)
    assert "labels" not in plain.column_names and plain["input_ids"] == ds["input_ids"]


@pytest.mark.parametrize("max_length", [24, 512])
def test_matches_a_reference_alignment_on_a_whole_corpus(tok, sample_dir: Path, max_length: int) -> None:
    """encode() (whatever fast path it takes) equals the straightforward per-sentence alignment from the
    tokenizer's own word_ids(), on thousands of sentences (several map batches), with and without truncation."""
    from bioner.data.corpus import load_corpus
    from bioner.settings.labels import DATA_FILES, FIELD_FULL

    c = load_corpus(sample_dir / DATA_FILES["silver"], FIELD_FULL)
    tokens = [list(t) for t in c.tokens[:2500]]
    tags = [list(t) for t in c.tags[:2500]]
    tokens[1700][3], tokens[2100][-1] = "\u200b", "\x07"  # zero-sub-token words beyond the first batch
    ds = encode(tokens, tags, L2I, tok, max_length=max_length)
    assert len(ds) == len(tokens)
    n_trunc = 0
    for i in range(len(tokens)):
        words = [w if tok.tokenize(w) else tok.unk_token for w in tokens[i]]
        enc = tok(words, is_split_into_words=True, truncation=True, max_length=max_length)
        wids = enc.word_ids()
        labels = first_subtoken_labels(wids, [L2I[t] for t in tags[i]])
        kept = max(w for w in wids if w is not None) + 1
        row = ds[i]
        assert row["input_ids"] == enc["input_ids"], i
        assert row["labels"] == labels, i
        assert (row["n_words"], row["truncated"], row["length"]) == (kept, kept < len(words), len(wids)), i
        n_trunc += kept < len(words)
    assert (n_trunc > 0) == (max_length == 24)
