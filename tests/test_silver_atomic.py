"""`bioner silver` replaces its set of subsets as one directory, and `load_silver` uses a stage file only when
stats.json vouches for it (the file's hash, the subset seed, the silver corpus it was cut from)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

import bioner.data.silver
from bioner.data.sample import write_sample_corpus
from bioner.data.silver import load_silver, write_subsets
from bioner.settings.labels import DATA_FILES, SEED_TYPES

L9 = SEED_TYPES.scheme("gold+silver").label2id
SIZES = {"train": 20, "validation": 5, "test_bc5cdr": 5, "silver": 100, "test_pubmed": 5}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("silver_atomic") / "raw"
    write_sample_corpus(d, seed=0, sizes=SIZES)
    return d


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_a_failure_mid_set_leaves_the_old_set_whole(raw: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "silver"
    write_subsets(raw, out, subset_seed=13, types=SEED_TYPES)
    before = _files(out)
    real = bioner.data.silver.subset_indices

    def full_disk_at_ratio_4(ratio: str, *args: int) -> list[int]:
        if ratio == "4":  # ratios 1 and 2 are written by now
            raise OSError(errno.ENOSPC, "No space left on device (simulated)")
        return real(ratio, *args)

    monkeypatch.setattr(bioner.data.silver, "subset_indices", full_disk_at_ratio_4)
    with pytest.raises(OSError, match="No space left on device"):
        write_subsets(raw, out, subset_seed=14, types=SEED_TYPES)
    assert _files(out) == before  # not one file of the seed-14 set
    assert sorted(p.name for p in tmp_path.iterdir()) == ["silver"]  # no temp directory left


def _in_memory(raw: Path, seed: int) -> list[list[str]]:
    return load_silver("1", None, raw, SIZES["train"], seed, L9).tokens


def test_a_mixed_set_is_not_used(raw: Path, tmp_path: Path) -> None:
    write_subsets(raw, tmp_path / "a", subset_seed=13, types=SEED_TYPES)
    write_subsets(raw, tmp_path / "b", subset_seed=14, types=SEED_TYPES)
    shutil.copyfile(tmp_path / "b" / "silver_1.jsonl", tmp_path / "a" / "silver_1.jsonl")  # stats.json: seed 13
    got = load_silver("1", tmp_path / "a", raw, SIZES["train"], 13, L9).tokens
    assert got == _in_memory(raw, 13) != _in_memory(raw, 14)


def test_a_set_cut_from_another_silver_corpus_is_not_used(raw: Path, tmp_path: Path) -> None:
    write_subsets(raw, tmp_path / "set", subset_seed=13, types=SEED_TYPES)
    edited = tmp_path / "raw"
    shutil.copytree(raw, edited)
    silver = edited / DATA_FILES["silver"]
    silver.write_text("".join(reversed(silver.read_text(encoding="utf-8").splitlines(keepends=True))),
                      encoding="utf-8")
    got = load_silver("1", tmp_path / "set", edited, SIZES["train"], 13, L9).tokens
    assert got == _in_memory(edited, 13) != _in_memory(raw, 13)


def test_a_matching_set_is_read_from_its_file(raw: Path, tmp_path: Path) -> None:
    stats = write_subsets(raw, tmp_path / "set", subset_seed=13, types=SEED_TYPES)
    assert len(stats["source_sha256"]) == 64 and all(len(s["sha256"]) == 64 for s in stats["subsets"].values())
    corpus = load_silver("1", tmp_path / "set", raw, SIZES["train"], 13, L9)
    assert corpus.path == tmp_path / "set" / "silver_1.jsonl" and corpus.tokens == _in_memory(raw, 13)
