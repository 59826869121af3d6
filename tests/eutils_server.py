"""A fake NCBI E-utilities server on 127.0.0.1 (test helper, not a test module).

It answers POSTed ESearch (JSON, history server) and EFetch (PubMed XML, by history or by `id`) like NCBI's,
over a list of PMIDs whose records it writes itself, and logs every request with its arrival time. Knobs:
`fail` (statuses answered to the next requests, in order), `delay` (seconds the next request waits before its
answer), `malformed` (retstarts answered with broken XML), `block_at` (a retstart whose request waits until
`release` is set, after setting `blocked`: a fetch killed mid-batch).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit


def article_xml(pmid: str) -> str:
    """A PubmedArticle whose title and abstract sentences are unique to `pmid`."""
    return (f"<PubmedArticle><MedlineCitation><PMID Version=\"1\">{pmid}</PMID><Article><Journal><JournalIssue>"
            f"<PubDate><Year>2020</Year></PubDate></JournalIssue><Title>Journal {pmid}</Title></Journal>"
            f"<ArticleTitle>Record {pmid} about ACE2</ArticleTitle><Abstract><AbstractText>Gene G{pmid} binds "
            f"ACE2 in cells.</AbstractText><AbstractText>Virus V{pmid} was found.</AbstractText></Abstract>"
            f"<Language>eng</Language></Article></MedlineCitation></PubmedArticle>")


def articles_xml(pmids: list[str]) -> bytes:
    body = "".join(article_xml(p) for p in pmids)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>{body}</PubmedArticleSet>\n'.encode()


class FakeEutils:
    def __init__(self, pmids: list[str]) -> None:
        self.pmids = list(pmids)
        self.log: list[tuple[float, str, dict[str, str]]] = []  # (arrival time, endpoint, params)
        self.fail: list[int] = []
        self.delay = 0.0
        self.malformed: set[int] = set()
        self.block_at: int | None = None
        self.blocked, self.release = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                server._serve(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/entrez/eutils"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- what the tests read
    def calls(self, endpoint: str) -> list[dict[str, str]]:
        return [p for _, e, p in self.log if e == endpoint]

    def retstarts(self) -> list[int]:
        return [int(p["retstart"]) for p in self.calls("efetch.fcgi") if "retstart" in p]

    # ---- serving
    def _serve(self, h: http.server.BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length", 0))
        params = {k: v[0] for k, v in parse_qs(h.rfile.read(length).decode()).items()}
        endpoint = urlsplit(h.path).path.rsplit("/", 1)[-1]
        with self._lock:
            self.log.append((time.monotonic(), endpoint, params))
            status = self.fail.pop(0) if self.fail else 200
            delay, self.delay = self.delay, 0.0
        if delay:
            time.sleep(delay)
        if status != 200:
            return self._send(h, status, b"<html>busy</html>", "text/html")
        if endpoint == "esearch.fcgi":
            if params.get("term") == "bad((":
                body = {"esearchresult": {"ERROR": "Invalid query: unbalanced parentheses"}}
                return self._send(h, 200, json.dumps(body).encode(), "application/json")
            count = 0 if params.get("term") == "nothing[ti]" else len(self.pmids)
            body = {"header": {"type": "esearch"}, "esearchresult": {
                "count": str(count), "retmax": "0", "retstart": "0", "querykey": "1", "webenv": "MCID_fake",
                "idlist": []}}
            return self._send(h, 200, json.dumps(body).encode(), "application/json")
        if endpoint == "efetch.fcgi":
            if "id" in params:
                return self._send(h, 200, articles_xml(params["id"].split(",")), "text/xml")
            start, size = int(params["retstart"]), int(params["retmax"])
            if start == self.block_at:
                self.blocked.set()
                self.release.wait(30)
            if start in self.malformed:
                return self._send(h, 200, b"<?xml version=\"1.0\"?>\n<PubmedArticleSet><PubmedArticle>", "text/xml")
            return self._send(h, 200, articles_xml(self.pmids[start:start + size]), "text/xml")
        self._send(h, 404, b"unknown endpoint", "text/plain")

    @staticmethod
    def _send(h: http.server.BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", kind)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test, a killed process)
