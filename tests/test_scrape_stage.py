"""The corpus stage end to end on plain text, its settings and `bioner corpus`: output form, token-sequence
dedup, gold test overlap, `source: none`, errors (one line, exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.cli.pipeline import main
from bioner.scrape.errors import ScrapeError
from bioner.scrape.sentences import sentence_tokens, split_sentences
from bioner.scrape.stage import run_stage
from bioner.settings.settings import CorpusSettings, SettingsError, load

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    d = tmp_path / "raw"
    for rel, tokens in (("bc5cdr/bc5cdr_test.jsonl", ["Cisplatin", "caused", "nephrotoxicity", "."]),
                        ("pubmed/pubmed_test.jsonl", ["HIV", "-", "1", "infects", "T", "cells", "."])):
        (d / rel).parent.mkdir(parents=True)
        (d / rel).write_text(json.dumps({"tokens": tokens, "decoded_tags": ["O"] * len(tokens)}) + "\n")
    return d


def cli(tmp_path: Path, raw: Path, *sets: str) -> list[str]:
    args = ["corpus", "--params", str(ROOT / "params.yaml"), "--out", str(tmp_path / "corpus"), "--metrics",
            str(tmp_path / "corpus.json"), "--data_dir", str(raw), "--cache_dir", str(tmp_path / "cache")]
    for s in sets:
        args += ["-s", s]
    return args


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_sentence_splitter_keeps_biomedical_abbreviations() -> None:
    text = ("E. coli strains were isolated as described by Smith et al. in 2001. Mice received 10 mg/kg i.v. of "
            "the drug, e.g. cisplatin (Fig. 2A). Dengue infects approx. 390 million people. IL-6 rose in pts. "
            "with COVID-19.")
    assert split_sentences(text) == [
        "E. coli strains were isolated as described by Smith et al. in 2001.",
        "Mice received 10 mg/kg i.v. of the drug, e.g. cisplatin (Fig. 2A).",
        "Dengue infects approx. 390 million people.", "IL-6 rose in pts. with COVID-19."]
    assert sentence_tokens("SARS-CoV-2 binds ACE2.") == [["SARS", "-", "CoV", "-", "2", "binds", "ACE2", "."]]


def test_text_file_one_document_a_line(tmp_path: Path, raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "abstracts.txt"
    src.write_text("SARS-CoV-2 binds ACE2. It enters cells.\n\nCisplatin caused nephrotoxicity. HIV-1 infects T "
                   "cells.\nIt enters cells. TNF-α rose.\nCisplatin caused nephrotoxicity. Then it stopped.\n",
                   encoding="utf-8")
    assert main(cli(tmp_path, raw, "corpus.source=text", f"corpus.path={src}", "corpus.name=mine")) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'corpus' / 'mine.jsonl'}" in out
    recs = lines(tmp_path / "corpus" / "mine.jsonl")
    assert recs == [
        {"tokens": ["SARS", "-", "CoV", "-", "2", "binds", "ACE2", "."], "pmid": None, "sentence": 0,
         "doc": "abstracts.txt:1"},
        {"tokens": ["It", "enters", "cells", "."], "pmid": None, "sentence": 1, "doc": "abstracts.txt:1"},
        {"tokens": ["TNF", "-", "α", "rose", "."], "pmid": None, "sentence": 1, "doc": "abstracts.txt:4"},
        {"tokens": ["Then", "it", "stopped", "."], "pmid": None, "sentence": 1, "doc": "abstracts.txt:5"}]
    m = json.loads((tmp_path / "corpus.json").read_text())
    # line 3 shares a 7-token sentence with the PubMed test: the whole document goes; line 5 shares only a
    # 4-token one: that sentence goes; line 4 repeats a sentence of line 1
    assert {k: m[k] for k in ("records", "documents", "sentences", "tokens", "duplicates_sentence",
                              "test_overlap_documents", "test_overlap_sentences")} == {
        "records": 4, "documents": 3, "sentences": 4, "tokens": 21, "duplicates_sentence": 1,
        "test_overlap_documents": 1, "test_overlap_sentences": 3}
    assert not (tmp_path / "corpus" / "mine.pmids").exists()  # no PMIDs in plain text


def test_text_folder_one_document_a_file(tmp_path: Path, raw: Path) -> None:
    src = tmp_path / "docs"
    (src / "sub").mkdir(parents=True)
    (src / "b.txt").write_text("Second document here.\nSame document, next line.\n")
    (src / "sub" / "a.txt").write_text("First document.\n")
    (src / "notes.md").write_text("not a .txt file\n")
    cfg = CorpusSettings(source="text", path=str(src))
    m = run_stage(cfg, tmp_path / "corpus", None, test_files=[raw / "pubmed/pubmed_test.jsonl"])
    assert [(r["doc"], r["sentence"]) for r in lines(tmp_path / "corpus" / "pubmed.jsonl")] == [
        ("b.txt", 0), ("b.txt", 1), ("sub/a.txt", 0)]
    assert m["documents"] == 2


def test_bad_utf8_names_file_and_line(tmp_path: Path, raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "t.txt"
    src.write_bytes(b"fine line.\nbad \xff byte.\n")
    assert main(cli(tmp_path, raw, "corpus.source=text", f"corpus.path={src}")) == 2
    assert f"{src}:2: not valid UTF-8" in capsys.readouterr().err


def test_nothing_left_is_an_error_and_keeps_the_previous_corpus(tmp_path: Path, raw: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.txt"
    good.write_text("A first corpus sentence.\n")
    assert main(cli(tmp_path, raw, "corpus.source=text", f"corpus.path={good}")) == 0
    before = (tmp_path / "corpus" / "pubmed.jsonl").read_bytes()
    only_test = tmp_path / "test_only.txt"
    only_test.write_text("Cisplatin caused nephrotoxicity.\n")
    assert main(cli(tmp_path, raw, "corpus.source=text", f"corpus.path={only_test}")) == 2
    err = capsys.readouterr().err
    assert "no sentence left of 1 records read (removed: test_overlap_sentences 1); nothing was written" in err
    assert err.count("\n") == 1
    assert (tmp_path / "corpus" / "pubmed.jsonl").read_bytes() == before


def test_source_none_writes_no_corpus(tmp_path: Path, raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "other.jsonl").write_text("{}\n")
    assert main(cli(tmp_path, raw)) == 0  # params.yaml as shipped: corpus.source none
    assert "nothing to build" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "corpus").iterdir()] == ["other.jsonl"]
    assert json.loads((tmp_path / "corpus.json").read_text()) == {"source": "none"}


def test_missing_gold_test_file_is_named(tmp_path: Path, raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "t.txt"
    src.write_text("Some text.\n")
    (raw / "pubmed/pubmed_test.jsonl").unlink()
    assert main(cli(tmp_path, raw, "corpus.source=text", f"corpus.path={src}")) == 2
    assert "pubmed_test.jsonl: gold test file not found" in capsys.readouterr().err


@pytest.mark.parametrize(("override", "message"), [
    ({"corpus.source": "pubmed_xml"}, "corpus.source=pubmed_xml needs corpus.path"),
    ({"corpus.source": "entrez"}, "corpus.source=entrez needs corpus.query"),
    ({"corpus.source": "web"}, "corpus.source"),
    ({"corpus.mindate": "2020-01-01", "corpus.maxdate": "2021"}, "allowed: YYYY, YYYY/MM or YYYY/MM/DD"),
    ({"corpus.mindate": "2020"}, "corpus.mindate and corpus.maxdate go together"),
    ({"corpus.name": "../x"}, "corpus.name"),
    ({"corpus.batch_size": 0}, "corpus.batch_size"),
])
def test_bad_settings_are_refused(override: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load(ROOT / "params.yaml", override)


def test_pmids_file_errors(tmp_path: Path, raw: Path) -> None:
    f = tmp_path / "ids.txt"
    f.write_text("# pinned\n123\nPMC42\n")
    cfg = CorpusSettings(source="entrez", pmids=str(f), base_url="http://127.0.0.1:9")
    with pytest.raises(ScrapeError, match=rf"{f}:3: 'PMC42' is not a PMID"):
        run_stage(cfg, tmp_path / "corpus", None, test_files=[], cache_dir=tmp_path / "c")
