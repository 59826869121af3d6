"""An NCBI E-utilities client (ESearch, EFetch) on `requests`: rate limit, retries with backoff, timeouts.

Why not Biopython's Bio.Entrez: its E-utilities URL is fixed inside each function, so it cannot be pointed at
the local fake server the tests run, and it retries 5xx only, after a fixed pause. Why a hand-written retry loop
rather than urllib3's `Retry`: urllib3 sends its first retry without any delay and outside our rate limiter,
and NCBI counts every request against the limit. Every request is a POST (E-utilities accept it): the API key
then travels in the body, never in a URL that an exception message, a proxy log or our own log could show.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from .errors import ScrapeError

log = logging.getLogger(__name__)

#: the environment variable holding the NCBI API key (never a setting: params are committed)
API_KEY_ENV = "NCBI_API_KEY"
#: NCBI's limits: requests per second without and with an API key
RATE = 3.0
RATE_WITH_KEY = 10.0
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class RateLimiter:
    """At most `per_second` request starts per second (thread-safe; monotonic clock)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class EntrezClient:
    """ESearch/EFetch against `base_url` (NCBI's, or a fake one in tests) as NCBI's usage policy asks:
    `tool` and `email` with every request, the API key from $NCBI_API_KEY, 3 (10 with a key) requests/s."""

    def __init__(self, base_url: str, *, tool: str = "bioner-ds", email: str = "", api_key: str | None = None,
                 retries: int = 5, backoff_s: float = 1.0, timeout_s: float = 60.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        if api_key is None:
            api_key = os.environ.get(API_KEY_ENV) or None
        self.api_key = api_key
        self.identity = {"tool": tool, **({"email": email} if email else {})}
        self.retries, self.backoff_s, self.timeout_s = retries, backoff_s, timeout_s
        self.limiter = RateLimiter(RATE_WITH_KEY if self.api_key else RATE)
        self.session = session or requests.Session()
        self.requests = 0  # sent, retries included

    def _post(self, endpoint: str, params: dict[str, Any], what: str) -> requests.Response:
        """POST with retries on 429/5xx, timeouts and dropped connections; ScrapeError naming `what` at the end."""
        url = f"{self.base_url}/{endpoint}"
        data = {**params, **self.identity, **({"api_key": self.api_key} if self.api_key else {})}
        problem, server_wait = "", None
        for attempt in range(self.retries + 1):
            if attempt:
                delay = server_wait if server_wait is not None else min(self.backoff_s * 2 ** (attempt - 1), 60.0)
                server_wait = None
                log.warning("%s: %s; retry %d/%d in %.1f s", what, problem, attempt, self.retries, delay)
                time.sleep(delay)
            self.limiter.wait()
            self.requests += 1
            try:
                resp = self.session.post(url, data=data, timeout=self.timeout_s)
            except requests.Timeout:
                problem = f"no answer within {self.timeout_s:g} s"
                continue
            except requests.ConnectionError as err:
                problem = f"connection failed ({type(err).__name__})"  # the message may carry the host: enough
                continue
            if resp.status_code in RETRY_STATUS:
                problem = f"HTTP {resp.status_code}"
                after = resp.headers.get("Retry-After", "")
                if after.isdigit():  # the server's own wait, when it names one
                    server_wait = min(float(after), 60.0)
                continue
            if resp.status_code != 200:
                first = " ".join(resp.text.split())[:200]
                raise ScrapeError(f"{what}: HTTP {resp.status_code} from {url} ({first}); check corpus.query, "
                                  "corpus.base_url and corpus.pmids")
            return resp
        raise ScrapeError(f"{what}: gave up after {self.retries + 1} attempts ({problem}) at {url}; NCBI may be "
                          "down or rate-limiting: rerun later (fetched batches are kept)")

    def esearch(self, query: str, *, mindate: str = "", maxdate: str = "") -> dict[str, Any]:
        """ESearch on the history server: {"count", "webenv", "query_key"} of `query` in PubMed."""
        params = {"db": "pubmed", "term": query, "usehistory": "y", "retmax": 0, "retmode": "json"}
        if mindate:
            params.update(datetype="pdat", mindate=mindate, maxdate=maxdate)
        resp = self._post("esearch.fcgi", params, "ESearch")
        try:
            result = resp.json()["esearchresult"]
        except (ValueError, KeyError, TypeError):
            raise ScrapeError(f"ESearch: the answer of {self.base_url} is not E-utilities JSON "
                              f"({' '.join(resp.text.split())[:120]}); check corpus.base_url") from None
        if "ERROR" in result or "webenv" not in result:
            error = result.get("ERROR") or result.get("errorlist") or "no history session returned"
            raise ScrapeError(f"ESearch refused corpus.query={query!r}: {error}")
        return {"count": int(result.get("count", 0)), "webenv": result["webenv"],
                "query_key": str(result["querykey"])}

    def efetch_history(self, webenv: str, query_key: str, retstart: int, retmax: int, what: str) -> bytes:
        """PubMed XML of records [retstart, retstart + retmax) of a history-server result."""
        params = {"db": "pubmed", "WebEnv": webenv, "query_key": query_key, "retstart": retstart,
                  "retmax": retmax, "retmode": "xml"}
        return self._post("efetch.fcgi", params, what).content

    def efetch_ids(self, pmids: list[str], what: str) -> bytes:
        """PubMed XML of the records with these PMIDs."""
        return self._post("efetch.fcgi", {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml"}, what).content
