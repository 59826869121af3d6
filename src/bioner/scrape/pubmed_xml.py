"""Streaming PubMed XML parser: baseline/update files (pubmed*.xml.gz) and EFetch output (`PubmedArticleSet`).

`iterparse` hands over one `PubmedArticle` at a time; it is read and then cleared from the tree, so memory stays
flat however big the file (docs/benchmarks.md s.9). The standard library's parser (expat) fetches no external
DTD or entity, so the DOCTYPE of NCBI's files is harmless. Inline markup of titles and abstracts (<i>, <sup>,
MathML) is flattened to its text; the sections of a structured abstract are joined in order, without labels.
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import ScrapeError
from .inputs import input_files

#: the PublicationType of an article that was retracted (its notice is "Retraction of Publication")
RETRACTED = "Retracted Publication"
ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")


@dataclass(frozen=True)
class Article:
    """What the corpus keeps of one PubMed record."""

    pmid: str
    title: str
    abstract: str
    year: str
    journal: str
    languages: tuple[str, ...]
    retracted: bool


def _text(elem: ET.Element | None) -> str:
    """All text under `elem`, inline markup flattened, whitespace runs collapsed."""
    return " ".join("".join(elem.itertext()).split()) if elem is not None else ""


def _year(article: ET.Element | None, citation: ET.Element) -> str:
    """Publication year: the journal issue's Year, else the first 4 digits of MedlineDate, else ArticleDate."""
    pub = article.find("Journal/JournalIssue/PubDate") if article is not None else None
    if pub is not None:
        year = pub.findtext("Year") or ""
        if not year:
            found = re.search(r"\d{4}", pub.findtext("MedlineDate") or "")
            year = found.group() if found else ""
        if year:
            return year.strip()
    return ((article.findtext("ArticleDate/Year") if article is not None else None)
            or citation.findtext("DateCompleted/Year") or "").strip()


def parse_article(elem: ET.Element) -> Article:
    """One <PubmedArticle> (or <PubmedBookArticle>) element -> Article."""
    citation = elem.find("MedlineCitation")
    if citation is None:  # a book record
        citation = elem.find("BookDocument")
    if citation is None:
        return Article("", "", "", "", "", (), False)
    article = citation.find("Article")
    holder = article if article is not None else citation
    sections = [_text(a) for a in holder.findall("Abstract/AbstractText")]
    title = _text(holder.find("ArticleTitle")) or _text(holder.find("Book/BookTitle"))
    types = {(t.text or "").strip() for t in holder.findall("PublicationTypeList/PublicationType")}
    journal = (article.findtext("Journal/Title") or article.findtext("Journal/ISOAbbreviation") or "") \
        if article is not None else ""
    return Article(
        pmid=(citation.findtext("PMID") or "").strip(),
        title=title,
        abstract=" ".join(s for s in sections if s),
        year=_year(article, citation),
        journal=journal.strip(),
        languages=tuple((lang.text or "").strip().lower() for lang in holder.findall("Language")),
        retracted=RETRACTED in types,
    )


def iter_articles(fh: IO[bytes], name: str, fix: str = "replace the file (a truncated download?)",
                  ) -> Iterator[Article]:
    """Articles of one XML stream, cleared as they are read; malformed XML is a ScrapeError naming `name`:line
    and ending with `fix`."""
    root: ET.Element | None = None
    try:
        for event, elem in ET.iterparse(fh, events=("start", "end")):
            if root is None:
                root = elem
                if root.tag != "PubmedArticleSet":
                    raise ScrapeError(f"{name}: not PubMed XML: the root element is <{root.tag}>, expected "
                                      "<PubmedArticleSet> (a baseline/update file or EFetch output, retmode=xml)")
            if event == "end" and elem.tag in ARTICLE_TAGS:
                yield parse_article(elem)
                root.clear()  # drop the finished article (and every earlier one) from the tree
    except ET.ParseError as err:
        line, col = err.position
        raise ScrapeError(f"{name}:{line}: malformed XML ({str(err).split(':')[0]}, column {col}). Fix: {fix}"
                          ) from None


def xml_files(path: Path) -> list[Path]:
    """`path` itself, or the *.xml / *.xml.gz files of a folder, sorted by name (baseline before updates)."""
    return input_files(path, lambda p: p.name.endswith((".xml", ".xml.gz")),
                       "a pubmed*.xml(.gz) file or a folder of them", ".xml or .xml.gz")


def read_articles(path: str | Path) -> Iterator[Article]:
    """Articles of a file or folder of PubMed XML (gzip by the .gz suffix), streamed in file order."""
    for f in xml_files(Path(path)):
        opener = gzip.open if f.name.endswith(".gz") else open
        try:
            with opener(f, "rb") as fh:
                yield from iter_articles(fh, str(f))
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            raise ScrapeError(f"{f}: not a readable gzip file ({err}). Fix: download it again") from None
