"""The `corpus` stage: a source (Entrez, PubMed XML, plain text) -> data/corpus/<name>.jsonl + metrics.

A record a sentence, unlabelled: `{"tokens": [...], "pmid": "...", "sentence": i}` (i = the sentence's index
in its document, title first; plain text has `"pmid": null` and `"doc": "file:line"`), plus `<name>.pmids`,
every record read, one a line: its PMID, year and journal, tab-separated (`corpus.pmids` set to this file
fetches exactly these records again: it reads the first field).
Nothing is written until the corpus is complete (each file written to a temp name and renamed), and a corpus
with no sentence is an error, never an empty file.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_open, write_json
from ..settings.sections import CorpusSettings
from .batches import fetch_batches
from .dedup import Dedup, test_keys
from .entrez import EntrezClient
from .errors import ScrapeError
from .pubmed_xml import Article, iter_articles, read_articles
from .sentences import sentence_tokens
from .text import read_documents

log = logging.getLogger(__name__)

#: skip reasons, in the order a record is checked
SKIPS = ("skipped_retracted", "skipped_no_abstract", "skipped_language")


@dataclass(frozen=True)
class Document:
    """Text to split: its PMID (PubMed) or id (plain text), then its parts in order (title, abstract)."""

    pmid: str | None
    doc_id: str | None
    parts: tuple[str, ...]


def corpus_file(out_dir: str | Path, cfg: CorpusSettings) -> Path:
    """Where the corpus of `cfg` goes: <out_dir>/<corpus.name>.jsonl (the distant stage's silver input)."""
    return Path(out_dir) / f"{cfg.name}.jsonl"


def _skip(article: Article, languages: set[str]) -> str | None:
    if article.retracted:
        return "skipped_retracted"
    if not article.abstract:
        return "skipped_no_abstract"
    if languages and article.languages and not languages & set(article.languages):
        return "skipped_language"
    return None


def pubmed_documents(articles: Iterable[Article], cfg: CorpusSettings, dedup: Dedup, counts: Counter[str],
                     pmids: list[str]) -> Iterator[Document]:
    """Documents of the articles that pass: a new PMID, not retracted, an abstract, a kept language."""
    languages = {lang.lower() for lang in cfg.languages}
    for article in articles:
        counts["records"] += 1
        if not dedup.new_pmid(article.pmid):
            continue
        if article.pmid:
            pmids.append("\t".join((article.pmid, article.year, " ".join(article.journal.split()))))
        reason = _skip(article, languages)
        if reason:
            counts[reason] += 1
            continue
        yield Document(article.pmid, None, (article.title, article.abstract))


def text_documents(path: str, counts: Counter[str]) -> Iterator[Document]:
    for doc in read_documents(path):
        counts["records"] += 1
        yield Document(None, doc.doc_id, (doc.text,))


def _articles_of(batches: list[Path]) -> Iterator[Article]:
    for path in batches:
        with open(path, "rb") as fh:
            yield from iter_articles(fh, str(path), fix=f"delete {path} and rerun to fetch it again")


def documents(cfg: CorpusSettings, dedup: Dedup, counts: Counter[str], pmids: list[str], *, cache_dir: Path,
              client_options: dict[str, Any]) -> Iterator[Document]:
    """The documents of `cfg.source` (Entrez batches are all fetched, or read from the cache, first)."""
    if cfg.source == "entrez":
        client = EntrezClient(cfg.base_url, tool=cfg.tool, email=cfg.email, **client_options)
        if not cfg.email:
            log.warning("corpus.email is empty: NCBI asks for a contact address with E-utilities requests")
        batches = fetch_batches(cfg, client, cache_dir)
        return pubmed_documents(_articles_of(batches), cfg, dedup, counts, pmids)
    if cfg.source == "pubmed_xml":
        return pubmed_documents(read_articles(cfg.path), cfg, dedup, counts, pmids)
    if cfg.source == "text":
        return text_documents(cfg.path, counts)
    raise ValueError(f"no documents for corpus.source={cfg.source!r}")


def run_stage(cfg: CorpusSettings, out_dir: str | Path, metrics_path: str | Path | None, *,
              test_files: Iterable[Path], cache_dir: str | Path = ".work/corpus",
              client_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the corpus of `cfg` into `out_dir`; return the counts (also written to `metrics_path`).

    `client_options`: EntrezClient's retries, backoff_s, timeout_s, api_key (default: $NCBI_API_KEY).
    `corpus.source: none` writes nothing but an empty `out_dir` if it is missing, and metrics saying so.
    """
    out = Path(out_dir)
    if cfg.source == "none":
        out.mkdir(parents=True, exist_ok=True)
        metrics: dict[str, Any] = {"source": "none"}
        if metrics_path is not None:
            write_json(metrics_path, metrics)
        return metrics
    dedup = Dedup(test_keys(test_files))
    counts: Counter[str] = Counter()
    pmids: list[str] = []
    docs = documents(cfg, dedup, counts, pmids, cache_dir=Path(cache_dir),
                     client_options=client_options or {})
    target = corpus_file(out, cfg)
    with atomic_open(target) as fh:
        for doc in docs:
            sents = [tokens for part in doc.parts for tokens in sentence_tokens(part)]
            if dedup.test_document(sents):
                continue
            counts["documents"] += 1
            for index, tokens in enumerate(sents):
                if dedup.keep_sentence(tokens):
                    rec: dict[str, Any] = {"tokens": tokens, "pmid": doc.pmid, "sentence": index}
                    if doc.doc_id is not None:
                        rec["doc"] = doc.doc_id
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                    counts["sentences"] += 1
                    counts["tokens"] += len(tokens)
                    counts["sentences_over_window"] += len(tokens) > cfg.window_tokens
            if counts["documents"] % 10000 == 0:
                log.info("corpus: %d documents, %d sentences", counts["documents"], counts["sentences"])
        if not counts["sentences"]:
            removed = {**{k.removeprefix("skipped_"): counts[k] for k in SKIPS}, **dedup.counts}
            why = ", ".join(f"{k} {v}" for k, v in removed.items() if v)
            raise ScrapeError(f"corpus.source={cfg.source}: no sentence left of {counts['records']} records read"
                              + (f" (removed: {why})" if why else "")
                              + "; nothing was written (check corpus.path, corpus.query, corpus.languages)")
        if pmids:
            with atomic_open(out / f"{cfg.name}.pmids") as pf:
                pf.write("".join(f"{p}\n" for p in pmids))
    metrics = {"source": cfg.source, "records": counts["records"],
               **{k: counts[k] for k in SKIPS}, **dedup.counts,
               **{k: counts[k] for k in ("documents", "sentences", "tokens", "sentences_over_window")}}
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    return metrics
