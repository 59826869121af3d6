"""The PubMed XML source of the corpus stage: what is read from a record, what is skipped and counted, streaming
with flat memory, gzip, malformed files."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bioner.scrape.errors import ScrapeError
from bioner.scrape.pubmed_xml import iter_articles, read_articles
from bioner.scrape.stage import run_stage
from bioner.settings.settings import CorpusSettings

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
        '1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">\n<PubmedArticleSet>\n')
TAIL = "</PubmedArticleSet>\n"


def record(pmid: str, *, title: str = "A title", abstract: str = "", lang: str = "eng", types: tuple[str, ...] = (
        "Journal Article",), date: str = "<Year>2021</Year>") -> str:
    pubtypes = "".join(f"<PublicationType>{t}</PublicationType>" for t in types)
    return (f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
            f'<Article PubModel="Print"><Journal><JournalIssue><PubDate>{date}</PubDate></JournalIssue>'
            f"<Title>Journal of Tests</Title><ISOAbbreviation>J Tests</ISOAbbreviation></Journal>"
            f"<ArticleTitle>{title}</ArticleTitle>{abstract}<Language>{lang}</Language>"
            f"<PublicationTypeList>{pubtypes}</PublicationTypeList></Article></MedlineCitation>"
            f"<PubmedData><PublicationStatus>ppublish</PublicationStatus></PubmedData></PubmedArticle>\n")


STRUCTURED = record("101", title="Dengue virus and <i>NS1</i> in children.", abstract=(
    '<Abstract><AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Dengue virus (DENV) infects approx. 390 '
    'million people.</AbstractText><AbstractText Label="METHODS">We measured NS1 by ELISA, e.g. in serum.'
    '</AbstractText><AbstractText Label="RESULTS">NS1 rose.</AbstractText></Abstract>'))
NO_ABSTRACT = record("102", title="A letter without abstract.")
RETRACTED = record("103", abstract="<Abstract><AbstractText>Fabricated results on IL-6.</AbstractText></Abstract>",
                   types=("Journal Article", "Retracted Publication"))
NON_ASCII = record("104", title="Rôle de l'interleukine-6 (IL-6) chez les souris.",
                   abstract="<Abstract><AbstractText>TNF-α and IFN-γ levels rose to 5 μg/ml in Zürich "
                            "cohorts.</AbstractText></Abstract>", date="<MedlineDate>1998 Dec-1999 Jan</MedlineDate>")
FRENCH = record("105", abstract="<Abstract><AbstractText>Les souris ont été infectées.</AbstractText></Abstract>",
                lang="fre")


def xml(*records: str) -> str:
    return HEAD + "".join(records) + TAIL


@pytest.fixture
def gold(tmp_path: Path) -> list[Path]:
    d = tmp_path / "raw"
    d.mkdir()
    f = d / "test.jsonl"
    f.write_text(json.dumps({"tokens": ["NS1", "rose", "."]}) + "\n")  # short: removes only itself
    return [f]


def build(tmp_path: Path, gold: list[Path], path: Path, **kw: object) -> dict:
    cfg = CorpusSettings(source="pubmed_xml", path=str(path), **kw)
    return run_stage(cfg, tmp_path / "corpus", tmp_path / "corpus.json", test_files=gold, cache_dir=tmp_path / "c")


def sentences(tmp_path: Path) -> list[dict]:
    return [json.loads(x) for x in (tmp_path / "corpus" / "pubmed.jsonl").read_text(encoding="utf-8").splitlines()]


def test_fields_of_a_structured_abstract() -> None:
    (a,) = iter_articles(io.BytesIO(xml(STRUCTURED).encode()), "x.xml")
    assert (a.pmid, a.year, a.journal, a.languages, a.retracted) == ("101", "2021", "Journal of Tests", ("eng",),
                                                                      False)
    assert a.title == "Dengue virus and NS1 in children."  # inline markup flattened
    assert a.abstract == ("Dengue virus (DENV) infects approx. 390 million people. We measured NS1 by ELISA, e.g. "
                          "in serum. NS1 rose.")  # sections joined in order, labels left out


def test_non_ascii_text_and_medline_date() -> None:
    (a,) = iter_articles(io.BytesIO(xml(NON_ASCII).encode()), "x.xml")
    assert a.year == "1998" and "TNF-α and IFN-γ" in a.abstract and "5 μg/ml in Zürich" in a.abstract
    assert a.title.startswith("Rôle")


def test_stage_skips_and_counts_retracted_no_abstract_language_and_duplicates(tmp_path: Path, gold: list[Path]
                                                                              ) -> None:
    src = tmp_path / "xml"
    src.mkdir()
    (src / "pubmed24n0001.xml").write_text(xml(STRUCTURED, NO_ABSTRACT, RETRACTED, FRENCH), encoding="utf-8")
    with gzip.open(src / "pubmed24n0002.xml.gz", "wt", encoding="utf-8") as fh:
        fh.write(xml(NON_ASCII, STRUCTURED))  # 101 again: an update file repeating a PMID
    m = build(tmp_path, gold, src)
    assert {k: m[k] for k in ("records", "skipped_retracted", "skipped_no_abstract", "skipped_language",
                              "duplicates_pmid", "test_overlap_documents", "test_overlap_sentences",
                              "documents")} == {
        "records": 6, "skipped_retracted": 1, "skipped_no_abstract": 1, "skipped_language": 1,
        "duplicates_pmid": 1, "test_overlap_documents": 0, "test_overlap_sentences": 1, "documents": 2}
    recs = sentences(tmp_path)
    assert [(r["pmid"], r["sentence"]) for r in recs] == [("101", 0), ("101", 1), ("101", 2), ("104", 0),
                                                          ("104", 1)]  # 101's sentence 3 is a test sentence
    assert recs[1]["tokens"] == ["Dengue", "virus", "(", "DENV", ")", "infects", "approx", ".", "390", "million",
                                 "people", "."]
    assert recs[4]["tokens"][:3] == ["TNF", "-", "α"] and "Zürich" in recs[4]["tokens"]
    assert "Zürich" in (tmp_path / "corpus" / "pubmed.jsonl").read_text(encoding="utf-8")  # UTF-8, not \\u escapes
    assert (tmp_path / "corpus" / "pubmed.pmids").read_text(encoding="utf-8").splitlines() == [
        "101\t2021\tJournal of Tests", "102\t2021\tJournal of Tests", "103\t2021\tJournal of Tests",
        "105\t2021\tJournal of Tests", "104\t1998\tJournal of Tests"]
    assert json.loads((tmp_path / "corpus.json").read_text()) == m


def test_a_long_test_sentence_removes_its_whole_document(tmp_path: Path, gold: list[Path]) -> None:
    src = tmp_path / "one.xml"
    src.write_text(xml(STRUCTURED, NON_ASCII), encoding="utf-8")
    gold[0].write_text(json.dumps({"tokens": ["We", "measured", "NS1", "by", "ELISA", ",", "e", ".", "g", ".",
                                              "in", "serum", "."]}) + "\n")
    m = build(tmp_path, gold, src)
    assert (m["test_overlap_documents"], m["test_overlap_sentences"], m["documents"]) == (1, 4, 1)
    assert {r["pmid"] for r in sentences(tmp_path)} == {"104"}  # the test abstract's other sentences go too


def test_language_filter_off_keeps_every_language(tmp_path: Path, gold: list[Path]) -> None:
    f = tmp_path / "one.xml"
    f.write_text(xml(FRENCH), encoding="utf-8")
    assert build(tmp_path, gold, f, languages=[])["documents"] == 1
    with pytest.raises(ScrapeError, match=r"no sentence left of 1 records read \(removed: language 1\)"):
        build(tmp_path, gold, f)


def test_sentences_over_the_window_are_kept_and_counted(tmp_path: Path, gold: list[Path]) -> None:
    f = tmp_path / "one.xml"
    f.write_text(xml(STRUCTURED), encoding="utf-8")
    m = build(tmp_path, gold, f, window_tokens=12)
    assert m["sentences_over_window"] == 1 and m["sentences"] == 3  # the 13-token sentence is kept
    assert sorted(len(r["tokens"]) for r in sentences(tmp_path)) == [7, 12, 13]


def test_malformed_file_names_file_and_line_and_writes_nothing(tmp_path: Path, gold: list[Path]) -> None:
    f = tmp_path / "bad.xml"
    f.write_text(xml(STRUCTURED)[:-60], encoding="utf-8")  # truncated
    with pytest.raises(ScrapeError, match=rf"{f}:\d+: malformed XML"):
        build(tmp_path, gold, f)
    assert not (tmp_path / "corpus").exists() and not (tmp_path / "corpus.json").exists()


@pytest.mark.parametrize(("content", "match"), [
    ("<eSearchResult><Count>0</Count></eSearchResult>", "root element is <eSearchResult>"),
    ("", r"x\.xml:1: malformed XML \(no element found"),
])
def test_not_pubmed_xml_is_refused(tmp_path: Path, content: str, match: str) -> None:
    f = tmp_path / "x.xml"
    f.write_text(content)
    with pytest.raises(ScrapeError, match=match):
        list(read_articles(f))


def test_broken_gzip_and_missing_path(tmp_path: Path) -> None:
    f = tmp_path / "pubmed.xml.gz"
    f.write_bytes(b"not gzip at all")
    with pytest.raises(ScrapeError, match="not a readable gzip file"):
        list(read_articles(f))
    with pytest.raises(ScrapeError, match="does not exist"):
        list(read_articles(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScrapeError, match=r"no \.xml or \.xml\.gz file"):
        list(read_articles(tmp_path / "empty"))


class _Stream(io.RawIOBase):
    """A PubMed XML file of `n` records made on the fly (never held whole in memory)."""

    def __init__(self, n: int) -> None:
        records = (STRUCTURED.replace("101", str(i)).encode() for i in range(n))
        self._parts: Iterator[bytes] = itertools.chain([HEAD.encode()], records, [TAIL.encode()])
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:
        while len(self._buf) < len(b):
            part = next(self._parts, None)
            if part is None:
                break
            self._buf += part
        n = min(len(b), len(self._buf))
        b[:n], self._buf = self._buf[:n], self._buf[n:]
        return n


def test_memory_stays_flat_however_many_records() -> None:
    def peak(n: int) -> int:
        tracemalloc.start()
        count = sum(1 for _ in iter_articles(io.BufferedReader(_Stream(n)), "stream"))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == n
        return top

    small, big = peak(500), peak(10000)
    assert big < small * 1.5 + 200_000  # 20x the records, about the same memory (a kept tree grows ~20x)
