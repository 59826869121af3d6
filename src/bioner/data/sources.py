"""Materialise the five data files (Hub layout) from the Hub, a synthetic sample or a local copy.

`fetch` builds the whole tree in a temp dir beside `dest` (same filesystem) and swaps it in with
`bioner.io.atomic.replace_dir`: a failed fetch never leaves a half-written `dest` and never destroys the
previous good one; a write error (full disk) is an OutputError naming `dest`. Record contents are not
validated here (the corpus loader does that).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path
from typing import Any

from bioner.errors import UserError
from bioner.hints import override
from bioner.io.atomic import filling, replace_dir, temp_dir
from bioner.settings.labels import DATA_FILES


def offline_hint() -> str:
    """The offline alternatives, in the syntax of the running command (bioner.hints)."""
    return (f"to work offline use {override('data.source', 'sample')} (synthetic corpus) "
            f"or {override('data.source', '/path/to/dir')} (local copy in the Hub layout)")

LAYOUT = ", ".join(DATA_FILES.values())
#: Optional folder of a local source copied along with the five files: the `distant` stage's dictionaries.
DICTIONARY_DIR = "dictionaries"
#: Optional folders of a local source copied along: hand-kept dictionaries and official dictionary sources.
DISTANT_DIRS = (DICTIONARY_DIR, "resources")


class FetchError(UserError, RuntimeError):
    """A data source could not be materialised; the message is one actionable line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


def extra_files(silver: tuple[str, ...], test_files: tuple[str, ...]) -> tuple[str, ...]:
    """The files settings name beyond the five (more silver corpora, more test sets), relative ones only: an
    absolute path is read where it is."""
    named = [f for f in (*silver, *test_files) if not Path(f).is_absolute()]
    return tuple(f for f in dict.fromkeys(named) if f not in DATA_FILES.values())


def fetch(source: str, dest: Path, *, repo: str, revision: str, sample_seed: int = 0,
          extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Materialise the five DATA_FILES and the `extra` files (relative paths) under dest in the Hub layout and
    return a manifest dict.

    Manifest: {"source", "repo", "revision" (resolved commit sha if hub, else None),
    "files": {relpath: {"sha256", "lines", "bytes"}}}, plus "requested_revision" (hub), "path" (local
    directory, resolved) or "sample_seed" (sample).

    `source` is "hub", "sample" or a local directory in the Hub layout. Raises FetchError on any failure,
    in which case `dest` is left exactly as it was.
    """
    dest = Path(dest).expanduser()
    existed = dest.exists()
    work = temp_dir(dest)
    try:
        with filling(work, dest, existed):  # a full disk names `dest`, not the temp tree
            tree = work / "tree"
            tree.mkdir()
            manifest: dict[str, Any] = {"source": source, "repo": repo, "revision": None}
            if source == "hub":
                commit = _from_hub(tree, work / "hf-cache", repo=repo, revision=revision, extra=extra)
                manifest.update(revision=commit, requested_revision=revision)
                origin = f"dataset repo {repo!r} at revision {revision!r}"
            elif source == "sample":
                if extra:
                    raise FetchError(f"data.source=sample holds only {LAYOUT}; {', '.join(extra)} (named by "
                                     "data.silver / evaluate.test_sets) need a real data source")
                _from_sample(tree, seed=sample_seed)
                manifest["sample_seed"] = sample_seed
                origin = "the synthetic sample corpus (bioner.sample)"
            else:
                root = _from_local(source, tree, extra)
                manifest["path"] = str(root)
                origin = f"local data source {root}"
            manifest["files"] = _describe(tree, origin, (*DATA_FILES.values(), *extra))
        replace_dir(tree, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def _describe(tree: Path, origin: str, rels: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """sha256, line and byte counts of the files; FetchError if one is missing or empty."""
    files: dict[str, dict[str, Any]] = {}
    for rel in rels:
        path = tree / rel
        if not path.is_file():
            raise FetchError(f"{origin} did not provide {rel}; expected the Hub layout: {LAYOUT}")
        digest, lines, size, last = hashlib.sha256(), 0, 0, b"\n"
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                lines += chunk.count(b"\n")
                size += len(chunk)
                last = chunk[-1:]
        if size == 0:
            raise FetchError(f"{rel} from {origin} is empty; re-download it or point data.source elsewhere")
        files[rel] = {"sha256": digest.hexdigest(), "lines": lines + (last != b"\n"), "bytes": size}
    return files


def _from_local(source: str, tree: Path, extra: tuple[str, ...] = ()) -> Path:
    """Copy the five files and `extra` from a local directory in the Hub layout (symlinks are followed, never
    kept)."""
    if not source.strip():
        raise FetchError("data.source is empty; use hub, sample or a directory in the Hub layout")
    root = Path(source).expanduser().resolve()
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise FetchError(
            f"local data source {root} {what}; pass {override('data.source', 'hub')}, "
            f"{override('data.source', 'sample')} or a directory holding {LAYOUT}"
        )
    missing = [rel for rel in DATA_FILES.values() if not (root / rel).is_file()]
    if missing:
        raise FetchError(
            f"local data source {root} is missing {len(missing)} of {len(DATA_FILES)} files: "
            f"{', '.join(missing)}; expected the Hub layout: {LAYOUT}"
        )
    absent = [rel for rel in extra if not (root / rel).is_file()]
    if absent:
        raise FetchError(f"local data source {root} has no {', '.join(absent)} (named by data.silver / "
                         "evaluate.test_sets); fix the setting or the directory")
    for rel in (*DATA_FILES.values(), *extra):
        _copy(root / rel, tree / rel)
    for extra in DISTANT_DIRS:  # optional: the `distant` stage's dictionaries and sources (docs/distant.md)
        if (root / extra).is_dir():
            shutil.copytree(root / extra, tree / extra)
    return root


def _from_sample(tree: Path, seed: int) -> None:
    try:
        from bioner.data.sample import write_sample_corpus
    except ModuleNotFoundError as err:
        if err.name != "bioner.data.sample":
            raise
        raise FetchError(
            "data.source=sample needs bioner.sample, which this install lacks; "
            f"use {override('data.source', 'hub')} or {override('data.source', '/path/to/dir')}"
        ) from err
    write_sample_corpus(tree, seed=seed)


def _from_hub(tree: Path, cache: Path, *, repo: str, revision: str, extra: tuple[str, ...] = ()) -> str:
    """Download the five files into a throwaway cache and copy them into `tree`; return the commit sha.

    The revision is resolved once (HEAD of the first file, no retries so an unreachable Hub fails fast) and
    every file is then downloaded at that commit, so a branch moving mid-fetch cannot mix two commits.
    """
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_download, hf_hub_url

    if constants.HF_HUB_OFFLINE:
        raise FetchError(
            f"cannot download dataset repo {repo!r} at revision {revision!r}: Hugging Face Hub offline mode "
            f"is on (HF_HUB_OFFLINE=1); {offline_hint()}"
        )
    rels = [*DATA_FILES.values(), *extra]
    rel = rels[0]
    downloaded: dict[str, str] = {}
    try:
        url = hf_hub_url(repo, rel, repo_type="dataset", revision=revision)
        commit = get_hf_file_metadata(url).commit_hash or revision
        for rel in rels:
            downloaded[rel] = hf_hub_download(
                repo_id=repo, repo_type="dataset", filename=rel, revision=commit, cache_dir=cache
            )
    except Exception as err:
        mapped = _hub_error(err, repo=repo, revision=revision, filename=rel)
        if mapped is None:
            raise
        raise mapped from err
    for rel, path in downloaded.items():
        _copy(Path(path), tree / rel)
    return commit


def _hub_error(err: BaseException, *, repo: str, revision: str, filename: str) -> FetchError | None:
    """Translate a huggingface_hub / HTTP-client error into a one-line FetchError (None: not a Hub error)."""
    from huggingface_hub import errors

    where = f"dataset repo {repo!r} at revision {revision!r}"
    first = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
    reason = f"{type(err).__name__}: {first}"[:300]
    if isinstance(err, errors.RevisionNotFoundError):
        return FetchError(
            f"revision {revision!r} not found in dataset repo {repo!r}; "
            f"set {override('data.revision', '<an existing branch, tag or 40-hex commit sha of that repo>')}, "
            f"or {offline_hint()}"
        )
    if isinstance(err, errors.GatedRepoError):
        return FetchError(
            f"dataset repo {repo!r} is gated: accept its conditions on the Hub and log in "
            "(hf auth login or HF_TOKEN)"
        )
    if isinstance(err, errors.RepositoryNotFoundError):
        return FetchError(
            f"dataset repo {repo!r} (revision {revision!r}) not found on the Hub (or private: log in with "
            f"hf auth login or HF_TOKEN); check {override('data.repo', '<owner/name>')}, or {offline_hint()}"
        )
    if isinstance(err, errors.LocalEntryNotFoundError):  # hf_hub_download's "could not reach the Hub"
        return _unreachable(where, reason)
    if isinstance(err, errors.EntryNotFoundError):
        return FetchError(f"file {filename!r} not found in {where}; the repo lacks the expected layout")
    if isinstance(err, (errors.OfflineModeIsEnabled, ConnectionError, TimeoutError, *_transport_errors())):
        return _unreachable(where, reason)
    if isinstance(err, errors.HfHubHTTPError):
        status = getattr(getattr(err, "response", None), "status_code", None)
        if status is not None and status >= 500:
            return _unreachable(where, reason)
        return FetchError(f"downloading {filename!r} from {where} failed ({reason})")
    if isinstance(err, errors.FileMetadataError):
        return _unreachable(where, reason)
    return None


def _unreachable(where: str, reason: str) -> FetchError:
    return FetchError(f"cannot reach the Hugging Face Hub to download {where} ({reason}); {offline_hint()}")


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection/timeout error bases of the HTTP client huggingface_hub uses (those already imported)."""
    found: list[type[BaseException]] = []
    clients = (("httpx2", "TransportError"), ("httpx", "TransportError"), ("requests", "ConnectionError"))
    for module, name in clients:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def _copy(src: Path, dst: Path) -> None:
    """Copy file contents (following symlinks: the destination is DVC-tracked, so never a link)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
