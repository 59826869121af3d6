"""Reliability: an unreachable or refusing Hub: one message naming the repo, revision and the offline alternatives.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability_helpers import files_under, one_error_line, run_cli, temp_debris


def _cli_subprocess(args: list[str], cwd: Path, env_extra: dict[str, str], timeout: float = 60
                    ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HOME=str(cwd / "hf-home"), HF_HUB_DISABLE_PROGRESS_BARS="1", OMP_NUM_THREADS="1", **env_extra)
    return subprocess.run([sys.executable, "-m", "bioner.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def error_hub() -> Iterator[str]:
    """A fake Hub endpoint answering like the Hub for a missing repo (`*/no-such-repo`) or a missing revision."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            missing_repo = "/no-such-repo/" in self.path
            self.send_response(401 if missing_repo else 404)
            self.send_header("X-Error-Code", "RepoNotFound" if missing_repo else "RevisionNotFound")
            self.send_header("X-Error-Message", "Repository not found" if missing_repo else "Invalid rev id")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# `bioner fetch` takes --source: the hint says so (bioner.hints)
OFFLINE_ALTERNATIVES = "to work offline use --source sample (synthetic corpus) or --source /path/to/dir"


def test_hub_offline_mode_names_repo_revision_and_alternatives(sandbox: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (sandbox / "raw").mkdir()
    (sandbox / "raw" / "previous.txt").write_text("old fetch")
    rc, _, err = run_cli(capsys, "fetch", "--source", "hub", "--dest", sandbox / "raw",
                         "-s", "data.revision=v1.2")
    msg = one_error_line(err, "fetch")
    assert rc == 2
    assert "dataset repo 'lumicero/BioNER-DS' at revision 'v1.2'" in msg and "HF_HUB_OFFLINE=1" in msg
    assert OFFLINE_ALTERNATIVES in msg
    assert files_under(sandbox / "raw") == {"previous.txt": hashlib.sha256(b"old fetch").hexdigest()}
    assert not temp_debris(sandbox)


@pytest.mark.parametrize(("case", "repo", "revision", "phrases"), [
    ("unreachable", "lumicero/BioNER-DS", "main", ["cannot reach the Hugging Face Hub",
                                                  "dataset repo 'lumicero/BioNER-DS' at revision 'main'"]),
    ("repo_not_found", "lumicero/no-such-repo", "main", ["dataset repo 'lumicero/no-such-repo' (revision 'main') "
                                                         "not found on the Hub"]),
    ("revision_not_found", "lumicero/BioNER-DS", "v9-missing", [
        "revision 'v9-missing' not found in dataset repo 'lumicero/BioNER-DS'"]),
], ids=["unreachable", "repo_not_found", "revision_not_found"])
def test_hub_errors_one_message(case: str, repo: str, revision: str, phrases: list[str], sandbox: Path,
                                error_hub: str) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}" if case == "unreachable" else error_hub
    t0 = time.time()
    proc = _cli_subprocess(["fetch", "--source", "hub", "--dest", "raw", "-s", f"data.repo={repo}",
                            "-s", f"data.revision={revision}"], sandbox,
                           {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": endpoint})
    assert proc.returncode == 2, proc.stderr
    msg = one_error_line(proc.stderr, "fetch")
    for phrase in phrases:
        assert phrase in msg
    assert OFFLINE_ALTERNATIVES in msg
    assert time.time() - t0 < 30  # fails fast, no retry loop
    assert not (sandbox / "raw").exists() and not temp_debris(sandbox)
