"""Tests for bioner.data.sources.fetch: a fake Hub over real HTTP, offline failures, local copies, atomicity."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bioner.data.sources import FetchError, fetch
from bioner.settings.labels import DATA_FILES

REPO = "lumicero/BioNER-DS"
INCOMPLETE_REPO = "lumicero/BioNER-DS-incomplete"  # lacks pubmed/pubmed_test.jsonl
SHA = "0123456789abcdef0123456789abcdef01234567"


def _corpus_bytes(rel: str) -> bytes:
    """Two valid records per file, distinct per file."""
    records = [
        {
            "tokens": ["Aspirin", "induced", "ulcers", rel],
            "decoded_tags": ["B-Chemical", "O", "B-Disease", "O"],
            "decoded_tags_pseudo_final": ["B-Chemical", "O", "B-Disease", "O"],
        },
        {
            "tokens": ["SARS-CoV-2", "binds", "ACE2", "."],
            "decoded_tags": ["O", "O", "O", "O"],
            "decoded_tags_pseudo_final": ["B-Virus", "O", "B-Gene", "O"],
        },
    ]
    return "".join(json.dumps(r) + "\n" for r in records).encode()


CORPUS = {rel: _corpus_bytes(rel) for rel in DATA_FILES.values()}


def _write_corpus(root: Path) -> Path:
    for rel, data in CORPUS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _assert_corpus(dest: Path) -> None:
    for rel, data in CORPUS.items():
        path = dest / rel
        assert not path.is_symlink() and path.read_bytes() == data, rel


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


# ---------------------------------------------------------------------------------------------- fake Hub


class FakeHub:
    """Answers the HEAD/GET `{endpoint}/datasets/{repo}/resolve/{revision}/{file}` calls of hf_hub_download.

    Serves REPO at SHA (and "main" -> SHA) like the Hub serves small non-LFS files: 200 with X-Repo-Commit,
    ETag (git blob sha1) and Content-Length. Unknown revisions/repos/files get the Hub's error headers.
    """

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        repos = {REPO: CORPUS, INCOMPLETE_REPO: {k: v for k, v in CORPUS.items() if "pubmed_test" not in k}}
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                hub.log.append((self.command, self.path))
                parts = self.path.split("?")[0].split("/")
                # ["", "datasets", owner, name, "resolve", revision, *file]
                if len(parts) < 7 or parts[1] != "datasets" or parts[4] != "resolve":
                    return self._send(404, {"X-Error-Message": "Not found"}, b"", body)
                repo, revision, rel = f"{parts[2]}/{parts[3]}", parts[5], "/".join(parts[6:])
                if repo not in repos:
                    return self._send(401, {"X-Error-Code": "RepoNotFound"}, b"", body)
                if revision not in (SHA, "main"):
                    msg = f"Invalid rev id: {revision}"
                    return self._send(
                        404, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": msg}, b"", body
                    )
                if rel not in repos[repo]:
                    headers = {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": SHA}
                    return self._send(404, headers, b"", body)
                data = repos[repo][rel]
                etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
                self._send(200, {"X-Repo-Commit": SHA, "ETag": f'"{etag}"'}, data, body)

            def _send(self, status: int, headers: dict[str, str], data: bytes, body: bool) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep pytest output quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def resolve_requests(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.log if "/resolve/" in p]


@pytest.fixture
def fake_hub() -> Iterator[FakeHub]:
    hub = FakeHub()
    hub.thread.start()
    yield hub
    hub.server.shutdown()
    hub.server.server_close()


_HUB_SCRIPT = """
import json, sys
from pathlib import Path
from bioner.data.sources import FetchError, fetch
out = []
for call in json.loads(sys.argv[1]):
    try:
        manifest = fetch("hub", Path(call["dest"]), repo=call["repo"], revision=call["revision"])
        out.append({"manifest": manifest})
    except FetchError as err:
        out.append({"error": str(err)})
print(json.dumps(out))
"""


def _fetch_hub_subprocess(endpoint: str, calls: list[dict[str, str]], tmp_path: Path) -> list[dict]:
    """Run fetch("hub") in a fresh interpreter, HF_ENDPOINT set before huggingface_hub is imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path / "hf-home"), HF_HUB_OFFLINE="0")
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _HUB_SCRIPT, json.dumps(calls)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_hub_download_pinned_revision_and_errors(fake_hub: FakeHub, tmp_path: Path) -> None:
    good = tmp_path / "good"
    _write_corpus(good)
    (good / "sentinel.txt").write_text("previous good fetch")
    calls = [
        {"dest": str(tmp_path / "by_sha"), "repo": REPO, "revision": SHA},
        {"dest": str(tmp_path / "by_branch"), "repo": REPO, "revision": "main"},
        {"dest": str(good), "repo": REPO, "revision": "v9-missing"},
        {"dest": str(tmp_path / "x1"), "repo": "lumicero/no-such-repo", "revision": SHA},
        {"dest": str(tmp_path / "x2"), "repo": INCOMPLETE_REPO, "revision": SHA},
    ]
    by_sha, by_branch, bad_rev, bad_repo, bad_entry = _fetch_hub_subprocess(
        fake_hub.endpoint, calls, tmp_path
    )

    for result, requested in ((by_sha, SHA), (by_branch, "main")):
        manifest = result["manifest"]
        assert manifest["source"] == "hub" and manifest["repo"] == REPO
        assert manifest["revision"] == SHA and manifest["requested_revision"] == requested
        assert list(manifest["files"]) == list(DATA_FILES.values())
        for rel, data in CORPUS.items():
            assert manifest["files"][rel] == {
                "sha256": hashlib.sha256(data).hexdigest(),
                "lines": 2,
                "bytes": len(data),
            }
    _assert_corpus(tmp_path / "by_sha")
    _assert_corpus(tmp_path / "by_branch")

    assert "v9-missing" in bad_rev["error"] and "not found" in bad_rev["error"]
    assert "\n" not in bad_rev["error"]
    _assert_corpus(good)  # the failed fetch left the previous good dest untouched
    assert (good / "sentinel.txt").read_text() == "previous good fetch"
    assert "lumicero/no-such-repo" in bad_repo["error"]
    assert "pubmed/pubmed_test.jsonl" in bad_entry["error"] and INCOMPLETE_REPO in bad_entry["error"]
    assert not (tmp_path / "x1").exists() and not (tmp_path / "x2").exists()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]  # no temp dirs left behind

    # The server saw the pinned revision: every file at SHA, "main" and the missing revision as requested.
    seen = fake_hub.resolve_requests()
    for rel in DATA_FILES.values():
        assert ("HEAD", f"/datasets/{REPO}/resolve/{SHA}/{rel}") in seen
        assert ("GET", f"/datasets/{REPO}/resolve/{SHA}/{rel}") in seen
    assert ("HEAD", f"/datasets/{REPO}/resolve/main/{DATA_FILES['train']}") in seen
    assert ("HEAD", f"/datasets/{REPO}/resolve/v9-missing/{DATA_FILES['train']}") in seen
    # A missing revision is caught by the first HEAD: nothing else is requested for it.
    assert [p for _, p in seen if "v9-missing" in p] == [
        f"/datasets/{REPO}/resolve/v9-missing/{DATA_FILES['train']}"
    ]


def test_hub_unreachable_closed_port(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again on exit: connections are refused
    start = time.monotonic()
    (result,) = _fetch_hub_subprocess(
        f"http://127.0.0.1:{port}", [{"dest": str(tmp_path / "d"), "repo": REPO, "revision": SHA}], tmp_path
    )
    assert time.monotonic() - start < 20  # fails fast: no exponential backoff on the first request
    message = result["error"]
    assert REPO in message and SHA in message
    assert "-S data.source=sample" in message and "-S data.source=/path/to/dir" in message
    assert "\n" not in message
    assert not (tmp_path / "d").exists()


def test_hub_offline_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # read at import time, so patch the module too
    with pytest.raises(FetchError) as info:
        fetch("hub", tmp_path / "d", repo=REPO, revision="main")
    message = str(info.value)
    assert REPO in message and "'main'" in message and "HF_HUB_OFFLINE" in message
    assert "-S data.source=sample" in message and "-S data.source=/path/to/dir" in message
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------- local


def test_local_copies_all_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    src = _write_corpus(tmp_path / "src")
    manifest = fetch(str(src), tmp_path / "out" / "raw", repo=REPO, revision="main")
    _assert_corpus(tmp_path / "out" / "raw")
    assert manifest["source"] == str(src) and manifest["path"] == str(src.resolve())
    assert manifest["revision"] is None
    assert [f["lines"] for f in manifest["files"].values()] == [2] * len(DATA_FILES)
    assert _siblings(tmp_path / "out" / "raw") == ["raw"]


def test_local_relative_home_and_symlinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative and ~ paths resolve; symlinked inputs (e.g. an HF cache snapshot) are copied as files."""
    blobs = _write_corpus(tmp_path / "blobs")
    snap = tmp_path / "home" / "snap"
    for rel in DATA_FILES.values():
        (snap / rel).parent.mkdir(parents=True, exist_ok=True)
        (snap / rel).symlink_to(blobs / rel)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    fetch("~/snap", tmp_path / "a", repo=REPO, revision="main")
    _assert_corpus(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    fetch("home/snap", Path("b"), repo=REPO, revision="main")
    _assert_corpus(tmp_path / "b")


def test_local_missing_file_and_dir(tmp_path: Path) -> None:
    src = _write_corpus(tmp_path / "src")
    (src / DATA_FILES["silver"]).unlink()
    (src / DATA_FILES["validation"]).unlink()
    with pytest.raises(FetchError) as info:
        fetch(str(src), tmp_path / "d", repo=REPO, revision="main")
    message = str(info.value)
    assert DATA_FILES["silver"] in message and DATA_FILES["validation"] in message and "2 of 5" in message
    assert DATA_FILES["train"] in message  # the expected layout is spelled out
    with pytest.raises(FetchError, match="does not exist"):
        fetch(str(tmp_path / "nope"), tmp_path / "d", repo=REPO, revision="main")
    with pytest.raises(FetchError, match="not a directory"):
        fetch(str(src / DATA_FILES["train"]), tmp_path / "d", repo=REPO, revision="main")
    assert not (tmp_path / "d").exists()


# ---------------------------------------------------------------------------------------------- atomicity


def test_failed_fetch_keeps_previous_dest(tmp_path: Path) -> None:
    dest = tmp_path / "data" / "raw"
    fetch(str(_write_corpus(tmp_path / "v1")), dest, repo=REPO, revision="main")
    (dest / "sentinel.txt").write_text("v1")

    broken = _write_corpus(tmp_path / "v2")
    (broken / DATA_FILES["test_pubmed"]).write_bytes(b"")  # fails after the other files were copied
    with pytest.raises(FetchError, match="is empty"):
        fetch(str(broken), dest, repo=REPO, revision="main")
    (broken / DATA_FILES["train"]).unlink()
    with pytest.raises(FetchError, match="missing"):
        fetch(str(broken), dest, repo=REPO, revision="main")

    _assert_corpus(dest)
    assert (dest / "sentinel.txt").read_text() == "v1"
    assert _siblings(dest) == ["raw"]  # no .raw.fetch-* or .raw.old left behind

    # A good fetch replaces the whole tree.
    fetch(str(_write_corpus(tmp_path / "v3")), dest, repo=REPO, revision="main")
    assert not (dest / "sentinel.txt").exists()
    assert _siblings(dest) == ["raw"]


def test_unexpected_error_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bioner.data.sources as sources

    def boom(src: Path, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sources, "_copy", boom)
    with pytest.raises(OSError, match="disk full"):
        fetch(str(_write_corpus(tmp_path / "src")), tmp_path / "d", repo=REPO, revision="main")
    assert _siblings(tmp_path / "d") == ["src"]


# ---------------------------------------------------------------------------------------------- sample


def test_sample_writes_five_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("bioner.data.sample")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    manifest = fetch("sample", tmp_path / "d", repo=REPO, revision="main", sample_seed=3)
    assert manifest["source"] == "sample" and manifest["sample_seed"] == 3
    for rel in DATA_FILES.values():
        assert (tmp_path / "d" / rel).stat().st_size > 0
        assert manifest["files"][rel]["lines"] > 0
    assert _siblings(tmp_path / "d") == ["d"]
