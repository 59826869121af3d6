"""Silver subsets (bioner.data.silver): nested, deterministic, independent of the training seed, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.data.corpus import load_corpus
from bioner.data.sample import write_sample_corpus
from bioner.data.silver import load_silver, subset_indices, subset_size, write_subsets
from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES, FIELD_FULL, SEED_TYPES
from bioner.settings.sections import RATIOS
from bioner.training.data import load_training_corpora

L9 = SEED_TYPES.scheme("gold+silver").label2id

SIZES = {"train": 20, "validation": 5, "test_bc5cdr": 5, "silver": 100, "test_pubmed": 5}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("silver_raw") / "raw"
    write_sample_corpus(d, seed=0, sizes=SIZES)
    return d


def _lines(p: Path) -> list[str]:
    return p.read_text(encoding="utf-8").splitlines()


def test_sizes_nested_and_in_corpus_order(raw: Path, tmp_path: Path) -> None:
    stats = write_subsets(raw, tmp_path, subset_seed=13, types=SEED_TYPES)
    raw_lines = [ln for ln in (raw / DATA_FILES["silver"]).read_text(encoding="utf-8").split("\n") if ln]
    subsets = {r: _lines(tmp_path / f"silver_{r}.jsonl") for r in RATIOS}
    assert {r: len(v) for r, v in subsets.items()} == {"1": 20, "2": 40, "4": 80, "full": 100}
    assert subsets["full"] == raw_lines  # full = every sentence, lines unchanged
    for small, big in (("1", "2"), ("2", "4"), ("4", "full")):
        assert set(subsets[small]) < set(subsets[big])
    for lines in subsets.values():  # kept sentences stay in corpus order
        pos = [raw_lines.index(ln) for ln in lines]
        assert pos == sorted(pos)
    assert stats["gold_sentences"] == 20 and stats["silver_sentences"] == 100 and stats["subset_seed"] == 13
    assert stats["subsets"]["2"]["sentences"] == 40 and stats["subsets"]["2"]["ratio_actual"] == 2.0
    assert set(stats["subsets"]["full"]["spans"]) <= {"Virus", "Gene"} and stats["subsets"]["full"]["spans"]
    assert json.loads((tmp_path / "stats.json").read_text()) == stats


def test_deterministic_and_seeded(raw: Path, tmp_path: Path) -> None:
    write_subsets(raw, tmp_path / "a", subset_seed=13, types=SEED_TYPES)
    write_subsets(raw, tmp_path / "b", subset_seed=13, types=SEED_TYPES)
    write_subsets(raw, tmp_path / "c", subset_seed=14, types=SEED_TYPES)
    for r in RATIOS:
        name = f"silver_{r}.jsonl"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert _lines(tmp_path / "a" / "silver_1.jsonl") != _lines(tmp_path / "c" / "silver_1.jsonl")
    assert subset_indices("2", 10, 50, 7) == subset_indices("2", 10, 50, 7)


def test_nested_for_many_seeds() -> None:
    for seed in range(20):
        one, two, four = (set(subset_indices(r, 7, 40, seed)) for r in ("1", "2", "4"))
        assert len(one) == 7 and one < two < four


def test_ratio_too_large_names_allowed_ratios() -> None:
    assert subset_size("full", 20, 50) == 50 and subset_size("2", 20, 50) == 40
    with pytest.raises(S.SettingsError) as exc:
        subset_size("4", 20, 50)
    msg = str(exc.value)
    assert "silver.ratio='4'" in msg and "needs 80 silver sentences" in msg and "has 50" in msg
    assert msg.endswith("allowed here: 1, 2, full")


def test_too_large_ratios_are_not_written(small_sample_dir: Path, tmp_path: Path) -> None:
    # small sample: 120 gold, 240 silver -> 4:1 impossible
    stats = write_subsets(small_sample_dir, tmp_path, subset_seed=13, types=SEED_TYPES)
    assert set(stats["subsets"]) == {"1", "2", "full"}
    assert not (tmp_path / "silver_4.jsonl").exists()
    with pytest.raises(S.SettingsError, match="allowed here: 1, 2, full"):
        load_silver("4", tmp_path, small_sample_dir, n_gold=120, subset_seed=13, label2id=L9)


def test_load_silver_file_or_memory(raw: Path, tmp_path: Path) -> None:
    write_subsets(raw, tmp_path, subset_seed=13, types=SEED_TYPES)
    from_file = load_silver("2", tmp_path, raw, n_gold=20, subset_seed=13, label2id=L9)
    in_memory = load_silver("2", None, raw, n_gold=20, subset_seed=13, label2id=L9)
    assert from_file.path == tmp_path / "silver_2.jsonl"
    assert from_file.tokens == in_memory.tokens and from_file.tags == in_memory.tags
    # a silver dir made with another subset_seed is not used
    other = load_silver("2", tmp_path, raw, n_gold=20, subset_seed=99, label2id=L9)
    assert other.path == raw / DATA_FILES["silver"]
    again = load_silver("2", None, raw, n_gold=20, subset_seed=99, label2id=L9)
    assert other.tokens == again.tokens != in_memory.tokens


def test_independent_of_training_seed(raw: Path) -> None:
    corpora = [load_training_corpora(S.from_dict({"strategy": "joint_uniform", "seed": seed,
                                                  "silver": {"ratio": 2, "subset_seed": 13}}), raw, None)
               for seed in (1, 2)]
    assert len(corpora[0]["silver"]) == 40
    assert corpora[0]["silver"].tokens == corpora[1]["silver"].tokens


def test_odd_lines_keep_alignment(tmp_path: Path) -> None:
    """Empty sentences, a U+2028 inside a token and CRLF do not shift which raw line is written."""
    raw = tmp_path / "raw"
    write_sample_corpus(raw, seed=0, sizes=SIZES)
    silver_path = raw / DATA_FILES["silver"]
    lines = [ln for ln in silver_path.read_text(encoding="utf-8").split("\n") if ln]
    odd = json.loads(lines[3])
    odd["tokens"][0] = odd["tokens"][0] + "\u2028x"
    lines[3] = json.dumps(odd, ensure_ascii=False)
    assert "\u2028" in lines[3]
    empty = json.dumps({"tokens": [], "decoded_tags": [], FIELD_FULL: []})
    lines = [lines[0], empty, *lines[1:50], empty, *lines[50:]]
    silver_path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    write_subsets(raw, tmp_path / "out", subset_seed=13, types=SEED_TYPES)
    full = load_corpus(tmp_path / "out" / "silver_full.jsonl", FIELD_FULL)
    assert len(full) == 100 and full.skipped_empty == 0
    assert full.tokens == load_corpus(silver_path, FIELD_FULL).tokens
    assert any("\u2028" in t for sent in full.tokens for t in sent)
