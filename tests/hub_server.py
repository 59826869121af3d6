"""A fake Hugging Face Hub for model repos, over real HTTP on 127.0.0.1 (test helper, not a test module).

Like the dataset Hub of test_sources.py, it is driven by huggingface_hub itself through HF_ENDPOINT (set before
huggingface_hub is imported, so in a subprocess). It keeps repos in memory as git-like commits and answers the
calls `bioner publish` and `Tagger.load` make: create a repo (409 if it exists), create a branch, validate a
README's YAML, preupload (every file "regular", sent inline in the commit), commit (atomic: all files or none),
repo info, tree listing, and resolve (HEAD/GET a file at a revision). Writes need `Authorization: Bearer
<token>`; a private repo is invisible without it. `fail_commits` makes the next commits fail with HTTP 500.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    private: bool = False
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit sha
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha -> {path: content}
    history: list[str] = field(default_factory=list)  # commit messages, oldest first

    def commit(self, files: dict[str, bytes], message: str, branch: str) -> str:
        sha = hashlib.sha1(json.dumps([message, len(self.commits), sorted(files)]).encode()).hexdigest()
        self.commits[sha] = files
        self.branches[branch] = sha
        self.history.append(message)
        return sha

    def resolve(self, rev: str) -> str | None:
        return self.branches.get(rev) or (rev if rev in self.commits else None)


class FakeModelHub:
    def __init__(self, token: str) -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.auth_seen: list[str] = []  # Authorization headers received (to check where the token went)
        self.fail_commits = 0
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:
                hub._serve(self, "HEAD")

            def do_GET(self) -> None:
                hub._serve(self, "GET")

            def do_POST(self) -> None:
                hub._serve(self, "POST")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeModelHub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def files(self, repo_id: str, rev: str = "main") -> dict[str, bytes]:
        repo = self.repos[repo_id]
        return repo.commits[repo.resolve(rev)]

    # ------------------------------------------------------------------------------------------------ serving
    def _serve(self, h: http.server.BaseHTTPRequestHandler, method: str) -> None:
        path = unquote(urlsplit(h.path).path)
        self.requests.append((method, path))
        auth = h.headers.get("Authorization", "")
        if auth:
            self.auth_seen.append(auth)
        authed = auth == f"Bearer {self.token}"
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0)) if method == "POST" else b""
        parts = path.strip("/").split("/")
        try:
            if method == "POST":
                if not authed:
                    return self._send(h, 401, {"X-Error-Message": "Invalid credentials in Authorization header"},
                                      {"error": "Invalid credentials in Authorization header"})
                return self._post(h, parts, body)
            if parts[:2] == ["api", "models"] and len(parts) >= 6:
                return self._api_get(h, parts, authed)
            if len(parts) >= 5 and parts[2] == "resolve":
                return self._resolve(h, method, parts, authed)
            return self._send(h, 404, {"X-Error-Message": "Not found"}, {"error": "Not found"})
        except Exception as err:  # a bug in the fake: make it visible in the client's error
            return self._send(h, 500, {"X-Error-Message": f"fake hub: {err!r}"}, {"error": repr(err)})

    def _repo(self, repo_id: str, authed: bool) -> Repo | None:
        repo = self.repos.get(repo_id)
        return None if repo is None or (repo.private and not authed) else repo

    def _post(self, h: http.server.BaseHTTPRequestHandler, parts: list[str], body: bytes) -> None:
        if parts == ["api", "repos", "create"]:
            req = json.loads(body)
            repo_id = f"{req['organization']}/{req['name']}"
            if repo_id in self.repos:
                return self._send(h, 409, {}, {"error": "You already created this model repo",
                                               "url": f"{self.endpoint}/{repo_id}"})
            repo = self.repos[repo_id] = Repo(private=req.get("visibility") == "private")
            repo.commit({".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"},
                        "initial commit", "main")
            return self._send(h, 200, {}, {"url": f"{self.endpoint}/{repo_id}", "name": repo_id})
        if parts == ["api", "validate-yaml"]:
            return self._send(h, 200, {}, {"errors": [], "warnings": []})
        repo_id, action, rev = f"{parts[2]}/{parts[3]}", parts[4], "/".join(parts[5:])
        repo = self.repos.get(repo_id)
        if parts[:2] != ["api", "models"] or repo is None:
            return self._send(h, 404, {"X-Error-Code": "RepoNotFound"}, {"error": "Repository not found"})
        if action == "branch":
            if rev in repo.branches:
                return self._send(h, 409, {}, {"error": "Reference already exists"})
            repo.branches[rev] = repo.branches["main"]
            return self._send(h, 200, {}, {})
        if repo.resolve(rev) is None:
            return self._send(h, 404, {"X-Error-Code": "RevisionNotFound"}, {"error": f"Invalid rev id: {rev}"})
        if action == "preupload":
            files = json.loads(body)["files"]
            return self._send(h, 200, {}, {"files": [{"path": f["path"], "uploadMode": "regular",
                                                      "shouldIgnore": False, "oid": None} for f in files]})
        if action == "commit":
            if self.fail_commits:
                self.fail_commits -= 1
                return self._send(h, 500, {"X-Error-Message": "Internal Error (simulated)"}, {"error": "boom"})
            files = dict(repo.commits[repo.resolve(rev)])
            message = ""
            for line in body.splitlines():
                item = json.loads(line)
                if item["key"] == "header":
                    message = item["value"]["summary"]
                elif item["key"] == "file":
                    files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                else:
                    raise ValueError(f"unsupported commit item {item['key']}")
            sha = repo.commit(files, message, rev if rev in repo.branches else "main")
            return self._send(h, 200, {}, {"commitUrl": f"{self.endpoint}/{repo_id}/commit/{sha}",
                                           "commitOid": sha, "pullRequestUrl": None})
        return self._send(h, 404, {}, {"error": "Not found"})

    def _api_get(self, h: http.server.BaseHTTPRequestHandler, parts: list[str], authed: bool) -> None:
        repo_id, action, rev = f"{parts[2]}/{parts[3]}", parts[4], parts[5]
        repo = self._repo(repo_id, authed)
        if repo is None:
            return self._send(h, 401, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"},
                              {"error": "Repository not found"})
        sha = repo.resolve(rev)
        if sha is None:
            return self._send(h, 404, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": f"Invalid rev id: {rev}"},
                              {"error": f"Invalid rev id: {rev}"})
        files = repo.commits[sha]
        if action == "revision":
            return self._send(h, 200, {}, {"id": repo_id, "sha": sha, "private": repo.private,
                                           "siblings": [{"rfilename": p} for p in sorted(files)]})
        if action == "tree":
            return self._send(h, 200, {}, [{"type": "file", "path": p, "size": len(d), "oid": blob_sha(d)}
                                           for p, d in sorted(files.items())])
        return self._send(h, 404, {}, {"error": "Not found"})

    def _resolve(self, h: http.server.BaseHTTPRequestHandler, method: str, parts: list[str], authed: bool) -> None:
        repo_id, rev, rel = f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
        repo = self._repo(repo_id, authed)
        if repo is None:
            return self._send(h, 401, {"X-Error-Code": "RepoNotFound"}, b"", method)
        sha = repo.resolve(rev)
        if sha is None:
            return self._send(h, 404, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": f"Invalid rev id: {rev}"},
                              b"", method)
        if rel not in repo.commits[sha]:
            return self._send(h, 404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": sha}, b"", method)
        data = repo.commits[sha][rel]
        return self._send(h, 200, {"X-Repo-Commit": sha, "ETag": f'"{blob_sha(data)}"'}, data, method)

    @staticmethod
    def _send(h: http.server.BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: object,
              method: str = "GET") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Type", "application/octet-stream" if isinstance(payload, bytes) else "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(data)
