"""JSONL loader (bioner.data.corpus): every error carries file:line and the fix; IOB2 repair; empty sentences."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bioner.data.corpus import CorpusError, load_corpus, repair_iob2
from bioner.settings.labels import DATA_FILES, FIELD_FULL, FIELD_GOLD, SEED_TYPES

L9 = SEED_TYPES.scheme("gold+silver").label2id
L5 = SEED_TYPES.scheme("gold").label2id

GOOD = {"tokens": ["cisplatin", "nephrotoxicity", "."],
        "decoded_tags": ["B-Chemical", "B-Disease", "O"],
        "decoded_tags_pseudo_final": ["B-Chemical", "B-Disease", "O"]}


def _write(path: Path, lines: list[str | dict]) -> Path:
    path.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines),
                    encoding="utf-8")
    return path


def _error(path: Path, field: str = FIELD_GOLD, **kw) -> str:
    with pytest.raises(CorpusError) as exc:
        load_corpus(path, field, **kw)
    return str(exc.value)


def test_loads_valid_records(tmp_path: Path) -> None:
    p = _write(tmp_path / "ok.jsonl", [GOOD, {**GOOD, "tokens": ["a", "b", "c"]}])
    c = load_corpus(p, FIELD_GOLD)
    assert len(c) == 2 and c.tokens[1] == ["a", "b", "c"]
    assert c.tags[0] == ["B-Chemical", "B-Disease", "O"]
    assert (c.repaired, c.skipped_empty) == (0, 0)


def test_sample_corpus_loads_in_both_views(small_sample_dir: Path) -> None:
    for key, rel in DATA_FILES.items():
        for field in (FIELD_GOLD, FIELD_FULL):
            c = load_corpus(small_sample_dir / rel, field)
            assert len(c) > 0, (key, field)


def test_bad_json(tmp_path: Path) -> None:
    p = _write(tmp_path / "bad.jsonl", [GOOD, GOOD, '{"tokens": ["a"], "decoded_tags": ["O"]'])
    msg = _error(p)
    assert msg.startswith(f"{p}:3: bad JSON") and "Fix: one complete JSON object per line" in msg


def test_not_an_object(tmp_path: Path) -> None:
    p = _write(tmp_path / "list.jsonl", [GOOD, '["a", "b"]'])
    msg = _error(p)
    assert msg.startswith(f"{p}:2: expected a JSON object, got list") and "Fix:" in msg


@pytest.mark.parametrize("missing", ["tokens", "decoded_tags"])
def test_missing_field(tmp_path: Path, missing: str) -> None:
    rec = {k: v for k, v in GOOD.items() if k != missing}
    p = _write(tmp_path / "missing.jsonl", [GOOD, rec])
    msg = _error(p)
    assert msg.startswith(f"{p}:2: missing field '{missing}'")
    assert 'Fix: every record needs "tokens" and "decoded_tags"' in msg


def test_missing_9tag_field_when_reading_9tag_view(tmp_path: Path) -> None:
    rec = {k: v for k, v in GOOD.items() if k != FIELD_FULL}
    p = _write(tmp_path / "m.jsonl", [rec])
    assert _error(p, FIELD_FULL).startswith(f"{p}:1: missing field 'decoded_tags_pseudo_final'")
    assert len(load_corpus(p, FIELD_GOLD)) == 1  # the 5-tag view does not need it


def test_wrong_field_type(tmp_path: Path) -> None:
    p = _write(tmp_path / "t.jsonl", [{**GOOD, "tokens": ["a", None, "c"]}])
    msg = _error(p)
    assert msg.startswith(f"{p}:1: field 'tokens' must be a list of strings") and "Fix:" in msg


def test_length_mismatch(tmp_path: Path) -> None:
    p = _write(tmp_path / "len.jsonl", [GOOD, GOOD, GOOD, {**GOOD, "decoded_tags": ["O", "O"]}])
    msg = _error(p)
    assert msg.startswith(f"{p}:4: 3 tokens but 2 tags in 'decoded_tags'")
    assert "Fix: give every token exactly one tag" in msg


def test_label_outside_label_space(tmp_path: Path) -> None:
    p = _write(tmp_path / "lab.jsonl", [{**GOOD, "decoded_tags": ["B-Drug", "O", "O"]}])
    msg = _error(p, label2id=L5, space="the run's types: sources.gold")
    assert msg.startswith(f"{p}:1: label(s) ['B-Drug'] not in the 5-label space of 'decoded_tags' (the run's types: "
                          "sources.gold)")
    assert "Fix: use only ['B-Chemical'" in msg


def test_without_a_label_space_any_well_formed_type_loads(tmp_path: Path) -> None:
    """Types are data: a file may hold any type (the run's label space is checked where a run reads it)."""
    rec = {**GOOD, "decoded_tags": ["B-Drug", "I-Drug", "O"], FIELD_FULL: ["B-CellLine", "O", "B-Species"]}
    p = _write(tmp_path / "any.jsonl", [GOOD, rec])
    assert load_corpus(p, FIELD_GOLD).tags[1] == ["B-Drug", "I-Drug", "O"]
    assert load_corpus(p, FIELD_FULL).tags[1] == ["B-CellLine", "O", "B-Species"]
    for bad in ("B-Cell-Line", "E-Gene", "b-Gene", "B-", "Gene"):
        p = _write(tmp_path / "bad.jsonl", [GOOD, {**GOOD, "decoded_tags": [bad, "O", "O"]}])
        msg = _error(p)
        assert msg.startswith(f"{p}:2: invalid label(s) ['{bad}'] in 'decoded_tags'"), msg
        assert "a label is O, B-<Type> or I-<Type>, with <Type> a letter followed by letters or digits" in msg


def test_9tag_label_in_5tag_view(tmp_path: Path) -> None:
    rec = {**GOOD, "decoded_tags": ["B-Gene", "O", "O"], FIELD_FULL: ["B-Gene", "O", "O"]}
    p = _write(tmp_path / "g.jsonl", [GOOD, rec])
    msg = _error(p, FIELD_GOLD, label2id=L5)
    assert msg.startswith(f"{p}:2: label(s) ['B-Gene'] not in the 5-label space")
    assert len(load_corpus(p, FIELD_FULL, L9)) == 2  # fine in the 9-tag view
    # an explicit 5-tag space on the 9-tag field is enforced too
    assert "5-label space of 'decoded_tags_pseudo_final'" in _error(p, FIELD_FULL, label2id=L5)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.jsonl"
    p.write_bytes(b"")
    msg = _error(p)
    assert msg.startswith(f"{p}:1: file is empty") and "Fix:" in msg


def test_file_of_only_empty_sentences(tmp_path: Path) -> None:
    p = _write(tmp_path / "e.jsonl", [{"tokens": [], "decoded_tags": []}, "   "])
    assert _error(p).startswith(f"{p}:1: file has no non-empty sentence")


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "latin1.jsonl"
    p.write_bytes(json.dumps(GOOD).encode() + b"\n"
                  + '{"tokens": ["Sjögren"], "decoded_tags": ["O"]}\n'.encode("latin-1"))
    msg = _error(p)
    assert msg.startswith(f"{p}:2: not valid UTF-8") and "Fix: re-encode the file as UTF-8" in msg


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + (json.dumps(GOOD) + "\n").encode())
    assert load_corpus(p, FIELD_GOLD).tokens == [GOOD["tokens"]]


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.jsonl"
    msg = _error(p)
    assert msg.startswith(f"{p}: file not found") and "bioner fetch" in msg


def test_unknown_field(tmp_path: Path) -> None:
    p = _write(tmp_path / "ok.jsonl", [GOOD])
    with pytest.raises(CorpusError, match="unknown label field 'tags'"):
        load_corpus(p, "tags")


def test_too_long_sentence(tmp_path: Path) -> None:
    n = 6000
    p = _write(tmp_path / "long.jsonl", [{"tokens": ["a"] * n, "decoded_tags": ["O"] * n}])
    assert _error(p).startswith(f"{p}:1: sentence of {n} tokens")


def test_repair_iob2() -> None:
    assert repair_iob2(["I-Gene", "I-Gene", "O", "I-Chemical", "B-Disease", "I-Chemical"]) == (
        ["B-Gene", "I-Gene", "O", "B-Chemical", "B-Disease", "B-Chemical"], 3)
    assert repair_iob2(["B-Gene", "I-Gene", "I-Gene"]) == (["B-Gene", "I-Gene", "I-Gene"], 0)


def test_iob2_repair_counted_and_warned(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bad = {**GOOD, "decoded_tags": ["I-Chemical", "I-Disease", "O"]}
    p = _write(tmp_path / "iob.jsonl", [GOOD, bad, bad])
    with caplog.at_level(logging.WARNING, logger="bioner.data.corpus"):
        c = load_corpus(p, FIELD_GOLD)
    assert c.repaired == 4
    assert c.tags[1] == ["B-Chemical", "B-Disease", "O"]
    assert any("repaired 4 invalid IOB2" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


def test_empty_sentences_skipped_with_count(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    empty = {"tokens": [], "decoded_tags": [], FIELD_FULL: []}
    p = _write(tmp_path / "empty_sents.jsonl", [empty, GOOD, "", empty, GOOD])
    with caplog.at_level(logging.WARNING, logger="bioner.data.corpus"):
        c = load_corpus(p, FIELD_GOLD)
    assert len(c) == 2 and c.skipped_empty == 2
    assert any("skipped 2 empty sentence(s)" in r.getMessage() for r in caplog.records)


def test_no_warning_for_clean_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    p = _write(tmp_path / "ok.jsonl", [GOOD])
    with caplog.at_level(logging.WARNING, logger="bioner.data.corpus"):
        load_corpus(p, FIELD_GOLD)
    assert not caplog.records


def test_keep_extra(tmp_path: Path) -> None:
    p = _write(tmp_path / "x.jsonl", [{**GOOD, "pmid": "123"}])
    assert load_corpus(p, FIELD_GOLD, keep_extra=True).extra == [{"pmid": "123"}]
