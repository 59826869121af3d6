"""The Entrez source of the corpus stage against a fake E-utilities server on 127.0.0.1 (never NCBI itself):
paging, rate limit, retries, timeout, resume after a kill, malformed batch, empty result, PMID pinning, API key."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bioner.cli.pipeline import main
from bioner.scrape.errors import ScrapeError
from bioner.scrape.stage import run_stage
from bioner.settings.settings import CorpusSettings
from eutils_server import FakeEutils

ROOT = Path(__file__).resolve().parents[1]
PMIDS = [str(1000 + i) for i in range(10)]


@pytest.fixture
def server() -> FakeEutils:
    s = FakeEutils(PMIDS)
    yield s
    s.stop()


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """A data dir with the two gold test files (one sentence each)."""
    d = tmp_path / "raw"
    for rel in ("bc5cdr/bc5cdr_test.jsonl", "pubmed/pubmed_test.jsonl"):
        (d / rel).parent.mkdir(parents=True)
        (d / rel).write_text(json.dumps({"tokens": ["Unrelated", "test", "sentence", "."]}) + "\n")
    return d


def gold_files(raw: Path) -> list[Path]:
    return [raw / "bc5cdr/bc5cdr_test.jsonl", raw / "pubmed/pubmed_test.jsonl"]


def cfg(server: FakeEutils, **kw: object) -> CorpusSettings:
    base = {"source": "entrez", "query": "ACE2[ti]", "base_url": server.url, "batch_size": 3, "email": "a@b.org"}
    return CorpusSettings(**{**base, **kw})


def client(**kw: object) -> dict:
    """EntrezClient options: no key, short backoff (`kw` overrides)."""
    return {"api_key": "", "backoff_s": 0.01, "timeout_s": 5.0, **kw}


def build(server: FakeEutils, tmp_path: Path, raw: Path, options: dict | None = None, **kw: object) -> dict:
    return run_stage(cfg(server, **kw), tmp_path / "corpus", tmp_path / "corpus.json", test_files=gold_files(raw),
                     cache_dir=tmp_path / "cache", client_options=client() if options is None else options)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_paging_fetches_every_record_once_in_batches(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    m = build(server, tmp_path, raw)
    assert len(server.calls("esearch.fcgi")) == 1
    search = server.calls("esearch.fcgi")[0]
    assert search["usehistory"] == "y" and search["term"] == "ACE2[ti]" and search["tool"] == "bioner-ds"
    assert search["email"] == "a@b.org"
    assert server.retstarts() == [0, 3, 6, 9]
    assert [int(p["retmax"]) for p in server.calls("efetch.fcgi")] == [3, 3, 3, 1]
    assert all(p["WebEnv"] == "MCID_fake" and p["query_key"] == "1" for p in server.calls("efetch.fcgi"))
    recs = records(tmp_path / "corpus" / "pubmed.jsonl")
    assert [r["pmid"] for r in recs if r["sentence"] == 0] == PMIDS
    assert {"tokens": ["Gene", "G1000", "binds", "ACE2", "in", "cells", "."], "pmid": "1000", "sentence": 1} in recs
    assert (tmp_path / "corpus" / "pubmed.pmids").read_text().splitlines() == [
        f"{p}\t2020\tJournal {p}" for p in PMIDS]  # PMID, year, journal
    assert m["records"] == 10 and m["documents"] == 10 and m["sentences"] == 30


def test_max_records_and_dates_are_sent(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    m = build(server, tmp_path, raw, max_records=4, mindate="2019", maxdate="2020/06")
    assert server.retstarts() == [0, 3] and m["records"] == 4
    search = server.calls("esearch.fcgi")[0]
    assert (search["datetype"], search["mindate"], search["maxdate"]) == ("pdat", "2019", "2020/06")


def assert_rate(times: list[float], per_second: float) -> None:
    """No window holds more requests than the rate allows, give or take one: arrival times at the server lag the
    client's sends by a scheduling delay (large on a loaded machine), which can shorten one gap but never bring
    requests j > i closer than (j - i - 1) intervals."""
    for i, j in itertools.combinations(range(len(times)), 2):
        assert times[j] - times[i] >= (j - i - 1) / per_second, (i, j, times)


def test_rate_limit_three_per_second_without_a_key(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    build(server, tmp_path, raw, batch_size=2)  # 1 ESearch + 5 EFetch
    times = [t for t, _, _ in server.log]
    assert len(times) == 6
    assert_rate(times, 3.0)


def test_rate_limit_ten_per_second_with_the_env_key_which_is_never_written(
        server: FakeEutils, tmp_path: Path, raw: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("NCBI_API_KEY", "SECRETKEY123")
    server.fail = [500]  # a retry, so a warning is logged
    with caplog.at_level(logging.DEBUG):
        build(server, tmp_path, raw, {"backoff_s": 0.01}, batch_size=2)
    assert all(p["api_key"] == "SECRETKEY123" for _, _, p in server.log)
    times = [t for t, _, _ in server.log]
    assert len(times) == 7
    assert_rate(times, 10.0)
    assert times[-1] - times[0] < 6 / 3  # faster than the keyless limit allows
    assert "retry" in caplog.text and "SECRETKEY123" not in caplog.text
    for f in [*(tmp_path / "corpus").iterdir(), tmp_path / "corpus.json", *(tmp_path / "cache").rglob("*.*")]:
        assert b"SECRETKEY123" not in f.read_bytes(), f


def test_429_and_500_are_retried_then_succeed(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    server.fail = [429, 500, 503]
    m = build(server, tmp_path, raw)
    assert len(server.calls("esearch.fcgi")) == 4 and m["records"] == 10


def test_gives_up_after_the_retries_naming_the_request(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    server.fail = [500] * 10
    with pytest.raises(ScrapeError, match=r"ESearch: gave up after 3 attempts \(HTTP 500\)"):
        build(server, tmp_path, raw, client(retries=2))
    assert not (tmp_path / "corpus").exists()


def test_a_timeout_is_retried(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    server.delay = 1.5
    m = build(server, tmp_path, raw, client(timeout_s=0.5))
    assert len(server.calls("esearch.fcgi")) == 2 and m["records"] == 10


def test_a_client_error_is_not_retried(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    server.fail = [400]
    with pytest.raises(ScrapeError, match="ESearch: HTTP 400"):
        build(server, tmp_path, raw)
    assert len(server.log) == 1


def test_query_refused_by_esearch_is_named(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    with pytest.raises(ScrapeError, match=r"ESearch refused corpus.query='bad\(\(': Invalid query: unbalanced"):
        build(server, tmp_path, raw, query="bad((")


def test_unreachable_server_error_never_shows_the_key(tmp_path: Path, raw: Path) -> None:
    cfg = CorpusSettings(source="entrez", query="x", base_url="http://127.0.0.1:9/eutils")  # nothing listens
    with pytest.raises(ScrapeError, match=r"gave up after 2 attempts \(connection failed") as err:
        run_stage(cfg, tmp_path / "corpus", None, test_files=gold_files(raw), cache_dir=tmp_path / "c",
                  client_options={"api_key": "SECRETKEY123", "retries": 1, "backoff_s": 0.01})
    assert "SECRETKEY123" not in str(err.value)


def test_malformed_batch_names_it_and_writes_nothing_then_resumes(server: FakeEutils, tmp_path: Path,
                                                                    raw: Path) -> None:
    server.malformed = {3}
    with pytest.raises(ScrapeError, match=r"EFetch batch 2 of 4 \(records 4-6\):\d+: malformed XML .*nothing of "
                       "this batch was kept"):
        build(server, tmp_path, raw)
    assert not (tmp_path / "corpus").exists() and not (tmp_path / "corpus.json").exists()
    cached = sorted(p.name for p in (tmp_path / "cache").rglob("batch-*"))
    assert cached == ["batch-000000.xml"]
    server.malformed = set()
    build(server, tmp_path, raw)
    assert server.retstarts() == [0, 3, 3, 6, 9]  # batch 1 not fetched again
    assert len(server.calls("esearch.fcgi")) == 1  # the history session is reused


def test_finished_query_rerun_sends_no_request(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    first = build(server, tmp_path, raw)
    before = (tmp_path / "corpus" / "pubmed.jsonl").read_bytes()
    n = len(server.log)
    assert build(server, tmp_path, raw) == first
    assert len(server.log) == n and (tmp_path / "corpus" / "pubmed.jsonl").read_bytes() == before


def test_pmids_file_reproduces_the_corpus_after_pubmed_changed(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    build(server, tmp_path, raw)
    corpus = tmp_path / "corpus"
    pinned = tmp_path / "pinned.pmids"
    pinned.write_bytes((corpus / "pubmed.pmids").read_bytes())
    first = (corpus / "pubmed.jsonl").read_bytes()
    server.pmids = ["999", *PMIDS[:5], "998", *PMIDS[5:]]  # the query now matches two more records
    server.log.clear()
    build(server, tmp_path, raw, pmids=str(pinned))
    assert not server.calls("esearch.fcgi")
    assert [p["id"] for p in server.calls("efetch.fcgi")] == ["1000,1001,1002", "1003,1004,1005",
                                                                 "1006,1007,1008", "1009"]
    assert (corpus / "pubmed.jsonl").read_bytes() == first


def _cli(server: FakeEutils, tmp_path: Path, raw: Path, *extra: str) -> list[str]:
    return ["corpus", "--params", str(ROOT / "params.yaml"), "-s", "corpus.source=entrez", "-s",
            f"corpus.base_url={server.url}", "-s", "corpus.batch_size=2", "--out", str(tmp_path / "corpus"),
            "--metrics", str(tmp_path / "corpus.json"), "--data_dir", str(raw), "--cache_dir",
            str(tmp_path / "cache"), *extra]


def test_empty_result_is_one_line_and_exit_2(server: FakeEutils, tmp_path: Path, raw: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_cli(server, tmp_path, raw, "-s", "corpus.query=nothing[ti]")) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("bioner corpus: error: corpus.query='nothing[ti]' matched no PubMed record; widen the query or "
                   "the dates (nothing was written)")
    assert not (tmp_path / "corpus").exists() and not (tmp_path / "corpus.json").exists()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_fetch_resumes_without_fetching_a_batch_twice(server: FakeEutils, tmp_path: Path, raw: Path) -> None:
    server.block_at = 4  # the third batch of 2 hangs: the process is killed while waiting for it
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("NCBI_API_KEY", None)
    proc = subprocess.Popen([sys.executable, "-m", "bioner.cli", *_cli(server, tmp_path, raw, "-s",
                                                                      "corpus.query=ACE2[ti]")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert server.blocked.wait(60), proc.stdout.read().decode() if proc.poll() is not None else "no request"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    server.block_at = None
    server.release.set()
    assert not (tmp_path / "corpus" / "pubmed.jsonl").exists()
    assert main(_cli(server, tmp_path, raw, "-s", "corpus.query=ACE2[ti]")) == 0
    assert server.retstarts() == [0, 2, 4, 4, 6, 8]  # only the batch in flight at the kill is fetched again
    assert len(server.calls("esearch.fcgi")) == 1
    assert [r["pmid"] for r in records(tmp_path / "corpus" / "pubmed.jsonl") if r["sentence"] == 0] == PMIDS
