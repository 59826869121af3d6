"""ESearch then EFetch in batches, through a resumable on-disk cache of fetched batches.

The cache folder is named by a fingerprint of what decides the records (query, dates, max_records, batch size,
base URL, or the PMID list): `search.json` (the ESearch result: count, history session), one `batch-NNNNNN.xml`
per EFetch batch, each checked to be well-formed PubMed XML and then written atomically, and `done.json` once
every batch is there. A killed run continues with the first missing batch; a finished one sends no request.
"""

from __future__ import annotations

import hashlib
import json
import logging
from io import BytesIO
from pathlib import Path

from ..io.atomic import atomic_open, write_json
from ..settings.sections import CorpusSettings
from .entrez import EntrezClient
from .errors import ScrapeError
from .pubmed_xml import iter_articles

log = logging.getLogger(__name__)

#: records of one PubMed query the E-utilities hand out (NCBI's PubMed API since its 2022 update)
PUBMED_QUERY_LIMIT = 10_000


def read_pmids(path: str | Path) -> list[str]:
    """PMIDs of a file, one a line (the first whitespace-separated field, so a `<name>.pmids` file with its
    year and journal columns reads as it is; blank lines and # comments skipped), duplicates dropped."""
    path = Path(path)
    if not path.is_file():
        raise ScrapeError(f"corpus.pmids={str(path)!r}: file not found; give a file of PMIDs, one a line (e.g. a "
                          "previous run's data/corpus/<name>.pmids)")
    out: dict[str, None] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        pmid = line.split()[0]
        if not pmid.isdigit():
            raise ScrapeError(f"{path}:{lineno}: {pmid!r} is not a PMID (digits only). Fix: one PMID a line")
        out[pmid] = None
    if not out:
        raise ScrapeError(f"{path}: no PMID in this file; give one PMID a line")
    return list(out)


def fingerprint(cfg: CorpusSettings, pmids: list[str] | None) -> str:
    """What decides the fetched records, hashed: the cache folder's name."""
    what = {"base_url": cfg.base_url.rstrip("/"), "batch_size": cfg.batch_size}
    if pmids is not None:
        what["pmids"] = hashlib.sha256(",".join(pmids).encode()).hexdigest()
    else:
        what.update(query=cfg.query, mindate=cfg.mindate, maxdate=cfg.maxdate, max_records=cfg.max_records)
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def check_batch(data: bytes, what: str) -> int:
    """Number of articles in an EFetch answer; ScrapeError naming the batch if it is not PubMed XML."""
    fix = "nothing of this batch was kept; rerun to fetch it again (the batches before it stay cached)"
    return sum(1 for _ in iter_articles(BytesIO(data), what, fix=fix))


def fetch_batches(cfg: CorpusSettings, client: EntrezClient, cache_root: str | Path) -> list[Path]:
    """Every EFetch batch of `cfg` (query or corpus.pmids) in the cache, fetching the missing ones; their paths.

    Raises ScrapeError when the query matches nothing (naming it), or a batch cannot be fetched or is malformed
    (naming the batch; the batches fetched before it stay cached for the next run).
    """
    pmids = read_pmids(cfg.pmids) if cfg.pmids else None
    cache = Path(cache_root) / fingerprint(cfg, pmids)
    done = cache / "done.json"
    if done.is_file():
        files = [cache / f for f in json.loads(done.read_text())["batches"]]
        if all(f.is_file() for f in files):
            log.info("corpus: every batch already fetched (%s); no request sent", cache)
            return files
    if pmids is not None:
        total = len(pmids)
        search = None
    else:
        search_file = cache / "search.json"
        if search_file.is_file():
            search = json.loads(search_file.read_text())
        else:
            search = client.esearch(cfg.query, mindate=cfg.mindate, maxdate=cfg.maxdate)
            if search["count"] == 0:
                dates = f" between {cfg.mindate} and {cfg.maxdate}" if cfg.mindate else ""
                raise ScrapeError(f"corpus.query={cfg.query!r} matched no PubMed record{dates}; widen the query or "
                                  "the dates (nothing was written)")
            write_json(search_file, search)
        total = min(search["count"], cfg.max_records)
        if total > PUBMED_QUERY_LIMIT:
            log.warning("corpus: NCBI documents that PubMed E-utilities return at most the first %d records of "
                        "one query; if a batch past that fails, split the query by corpus.mindate/maxdate",
                        PUBMED_QUERY_LIMIT)
        log.info("corpus: ESearch found %d records; fetching %d in batches of %d", search["count"], total,
                 cfg.batch_size)
    starts = list(range(0, total, cfg.batch_size))
    files: list[Path] = []
    for i, start in enumerate(starts):
        path = cache / f"batch-{start:06d}.xml"
        files.append(path)
        if path.is_file():
            continue
        size = min(cfg.batch_size, total - start)
        what = f"EFetch batch {i + 1} of {len(starts)} (records {start + 1}-{start + size})"
        if pmids is not None:
            data = client.efetch_ids(pmids[start:start + size], what)
        else:
            data = client.efetch_history(search["webenv"], search["query_key"], start, size, what)
        n = check_batch(data, what)
        with atomic_open(path, "wb") as fh:
            fh.write(data)
        log.info("corpus: %s: %d records", what, n)
    write_json(done, {"batches": [f.name for f in files], "records": total})
    return files
