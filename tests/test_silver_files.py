"""Several silver files (`data.silver`), text-only silver, deduplication against each other and the test sets,
and the dictionaries' own F1 per test set: the distant stage's joined silver corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bioner.cli.pipeline import main
from bioner.data.sample import write_sample_corpus
from bioner.data.sources import FetchError, extra_files, fetch
from bioner.distant.errors import DistantError
from bioner.distant.silver_union import join_silver
from bioner.distant.stage import run_stage
from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES, FIELD_FULL, FIELD_GOLD, TestSet

SIZES = {"train": 30, "validation": 10, "test_bc5cdr": 10, "silver": 40, "test_pubmed": 10}
GOLD = ("Chemical", "Disease")


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("silver_files") / "raw"
    write_sample_corpus(d, seed=0, sizes=SIZES)
    silver = [json.loads(x) for x in (d / DATA_FILES["silver"]).read_text().splitlines()]
    test = [json.loads(x) for x in (d / DATA_FILES["test_pubmed"]).read_text().splitlines()]
    # text only: two new sentences, one repeated, one silver sentence again, one test sentence
    text = [{"tokens": ["SARS", "-", "CoV", "-", "2", "infects", "cells", "."]},
            {"tokens": ["Influenza", "spreads", "."]},
            {"tokens": ["Influenza", "spreads", "."]},
            {"tokens": silver[0]["tokens"]},
            {"tokens": test[0]["tokens"]}]
    (d / "covid").mkdir()
    (d / "covid/text.jsonl").write_text("".join(json.dumps(r) + "\n" for r in text))
    return d


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_text_only_silver_is_labelled_and_deduplicated(raw: Path, tmp_path: Path) -> None:
    cfg = S.DistantSettings(mode="relabel")
    tests = {"pubmed": TestSet("pubmed", DATA_FILES["test_pubmed"], "gold+silver")}
    m = run_stage(cfg, raw, tmp_path / "lab", gold_types=GOLD, metrics_path=tmp_path / "m.json",
                  report_path=tmp_path / "r.json", silver_files=(DATA_FILES["silver"], "covid/text.jsonl"),
                  test_sets=tests)
    out = _lines(tmp_path / "lab" / DATA_FILES["silver"])
    origins = [r["origin"] for r in out]
    assert origins.count("covid/text.jsonl") == 2  # 5 lines - 1 repeat - 1 silver duplicate - 1 test sentence
    assert m["silver_from_text"] == 2 and m["silver_duplicates_removed"] >= 2
    assert m["silver_test_overlap_removed"] >= 1
    new = [r for r in out if r["origin"] == "covid/text.jsonl"]
    assert new[0][FIELD_GOLD] == ["O"] * 8 and new[0][FIELD_FULL][:5] == ["B-Virus", "I-Virus", "I-Virus", "I-Virus",
                                                                           "I-Virus"]
    test_keys = {tuple(r["tokens"]) for r in _lines(raw / DATA_FILES["test_pubmed"])}
    assert not [r for r in out if tuple(r["tokens"]) in test_keys]
    # the dictionaries' own F1 on the test set that annotates their types
    assert 0 <= m["pubmed_dict_f1"] <= 1 and {"pubmed_dict_f1_Virus", "pubmed_dict_f1_Gene"} <= set(m)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["silver_union"]["files"]["covid/text.jsonl"]["read"] == 5
    assert str(tmp_path) not in json.dumps(report)  # no temp paths in the committed report


def test_keep_mode_refuses_text_only_silver(raw: Path, tmp_path: Path) -> None:
    with pytest.raises(DistantError, match=r"text\.jsonl:1: no decoded_tags_pseudo_final.*mode=relabel"):
        run_stage(S.DistantSettings(), raw, tmp_path / "lab", gold_types=GOLD,
                  silver_files=(DATA_FILES["silver"], "covid/text.jsonl"))
    assert not (tmp_path / "lab").exists()


def test_keep_mode_with_the_one_default_file_copies_it(raw: Path, tmp_path: Path) -> None:
    run_stage(S.DistantSettings(), raw, tmp_path / "lab", silver_files=(DATA_FILES["silver"],))
    assert (tmp_path / "lab" / DATA_FILES["silver"]).read_bytes() == (raw / DATA_FILES["silver"]).read_bytes()


def test_join_counts_and_empty_result(tmp_path: Path) -> None:
    a = tmp_path / "a.jsonl"
    a.write_text(json.dumps({"tokens": ["x", "y"]}) + "\n" + json.dumps({"tokens": ["x", "y"]}) + "\n")
    res = join_silver([("a.jsonl", a)], tmp_path / "out.jsonl", relabel=True, exclude=set())
    assert res["sentences"] == 1 and res["duplicates_removed"] == 1
    with pytest.raises(DistantError, match="no sentence is left"):
        join_silver([("a.jsonl", a)], tmp_path / "out2.jsonl", relabel=True, exclude={"x\x1fy"})
    assert not (tmp_path / "out2.jsonl").exists()


def test_data_silver_setting_is_checked() -> None:
    with pytest.raises(S.SettingsError, match="data.silver"):
        S.load(None, {"data.silver": []})
    assert S.load(None, {}).data.silver == (DATA_FILES["silver"],)


def test_fetch_copies_the_files_settings_name(raw: Path, tmp_path: Path) -> None:
    extra = extra_files((DATA_FILES["silver"], "covid/text.jsonl"), (DATA_FILES["test_bc5cdr"], "/abs/t.jsonl"))
    assert extra == ("covid/text.jsonl",)  # the five are always fetched; absolute paths are read in place
    m = fetch(str(raw), tmp_path / "dest", repo="r", revision="main", extra=extra)
    assert (tmp_path / "dest/covid/text.jsonl").read_bytes() == (raw / "covid/text.jsonl").read_bytes()
    assert "covid/text.jsonl" in m["files"]
    with pytest.raises(FetchError, match="has no covid/missing.jsonl"):
        fetch(str(raw), tmp_path / "dest", repo="r", revision="main", extra=("covid/missing.jsonl",))
    assert (tmp_path / "dest/covid/text.jsonl").is_file()  # the failed fetch left the good one
    with pytest.raises(FetchError, match="data.source=sample holds only"):
        fetch("sample", tmp_path / "s", repo="r", revision="main", extra=("covid/text.jsonl",))


def test_distant_cli_joins_the_settings_files(raw: Path, tmp_path: Path) -> None:
    data = tmp_path / "raw"
    shutil.copytree(raw, data)
    params = tmp_path / "params.yaml"
    params.write_text(json.dumps(S.load(None, {"distant.mode": "relabel", "data.silver": [
        DATA_FILES["silver"], "covid/text.jsonl"]}).model_dump(mode="json")))
    assert main(["distant", "--params", str(params), "--data_dir", str(data), "--out", str(tmp_path / "lab"),
                 "--metrics", str(tmp_path / "m.json"), "--report", str(tmp_path / "r.json")]) == 0
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["silver_from_text"] == 2 and "pubmed_dict_f1" in m and "bc5cdr_dict_f1" not in m


def test_the_corpus_stage_text_joins_the_silver(raw: Path, tmp_path: Path) -> None:
    data, corpus = tmp_path / "raw", tmp_path / "corpus"
    shutil.copytree(raw, data)
    corpus.mkdir()
    (corpus / "pubmed.jsonl").write_text(json.dumps({"tokens": ["HIV", "-", "1", "binds", "CD4", "."], "pmid": "1",
                                                     "sentence": 0}) + "\n")
    params = tmp_path / "params.yaml"
    params.write_text(json.dumps(S.load(None, {"distant.mode": "relabel", "corpus.source": "text",
                                               "corpus.path": "x.txt"}).model_dump(mode="json")))
    assert main(["distant", "--params", str(params), "--data_dir", str(data), "--out", str(tmp_path / "lab"),
                 "--metrics", str(tmp_path / "m.json"), "--report", str(tmp_path / "r.json"),
                 "--corpus_dir", str(corpus)]) == 0
    out = _lines(tmp_path / "lab" / DATA_FILES["silver"])
    mine = [r for r in out if r["origin"] == "corpus/pubmed.jsonl"]
    assert len(mine) == 1 and mine[0]["pmid"] == "1" and "B-Virus" in mine[0][FIELD_FULL]


def test_dictionary_scores_refuse_a_test_set_without_its_types(raw: Path, tmp_path: Path) -> None:
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "keep.txt").write_text("previous output")
    tests = {"viruses": TestSet("viruses", DATA_FILES["test_pubmed"], "gold", ("Virus",))}
    with pytest.raises(DistantError, match="test set viruses: .* no gold span of Virus"):
        run_stage(S.DistantSettings(mode="relabel"), raw, tmp_path / "lab", gold_types=GOLD, test_sets=tests)
    assert (tmp_path / "lab" / "keep.txt").read_text() == "previous output"  # nothing swapped in
