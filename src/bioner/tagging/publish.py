"""`bioner publish`: upload a trained checkpoint and a generated model card to the Hugging Face Hub, in one commit.

What goes up: the checkpoint's safetensors weights, config (with the label map), tokenizer files and bioner.json,
plus README.md, a model card with the Hub's metadata header (huggingface_hub.ModelCardData) that states the label
map, backbone, strategy, every training param (config_snapshot.yaml), the data source and revision, per-entity
test scores (metrics.json of this run: one seed; `--report` adds mean +- std over the seeds of its configuration
from `bioner report`), intended use, limitations, and how to load it with `Tagger.load` and plain transformers.

Everything is checked before the first request: the repo id, the checkpoint (it must load as a Tagger), the
card's inputs, a token. The token comes only from huggingface_hub's usual places (HF_TOKEN, the `hf auth login`
cache) and is never printed, logged or written. The files go up as a single commit (`HfApi.create_commit`), so
a failure leaves the repo as it was: nothing is half uploaded.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from ..settings.settings import flatten
from .model_card import _params, model_card

log = logging.getLogger(__name__)

#: Checkpoint files that are uploaded (pickle weights, optimizer state and dotfiles never are).
UPLOAD_PATTERNS = ("*.safetensors", "*.json", "*.txt", "*.model")


class PublishError(UserError, RuntimeError):
    """A publish that cannot be done as asked; one line that says what to do. Nothing was uploaded."""


def check_repo_id(repo_id: str) -> None:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    allowed = ("use owner/name: letters, digits, '-', '_' and '.', at most 96 characters, no '--' or '..', "
               "not starting or ending with '-' or '.'")
    if repo_id.count("/") != 1:
        raise PublishError(f"--repo {repo_id!r}: expected owner/name (e.g. my-lab/bioner-minilm); {allowed}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        reason = str(err).split(".")[0]
        raise PublishError(f"--repo {repo_id!r}: not a valid Hub repo id ({reason}); {allowed}") from None


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise PublishError(f"{path}: cannot read the {what} ({type(err).__name__})") from None
    if not isinstance(data, dict):
        raise PublishError(f"{path}: not a {what}")
    return data


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PublishError(f"{path}: cannot read the {what} ({type(err).__name__})") from None


def _report_group(report: dict[str, Any], snapshot: dict[str, Any], path: Path) -> dict[str, Any]:
    """The `bioner report` group of this checkpoint's configuration: every param equal except the seed."""
    mine = {k: v for k, v in flatten(_params(snapshot)).items() if k != "seed"}
    for g in report.get("groups", []):
        params = g.get("params") or {}
        if params and all(mine.get(k) == v for k, v in params.items()):
            return g
    raise PublishError(f"{path}: no configuration there has this checkpoint's settings (strategy "
                       f"{snapshot.get('strategy')}, backbone {snapshot.get('backbone')}); pass the report of "
                       "the study that trained it, or leave --report out")


def _hub_error(err: BaseException, repo_id: str) -> PublishError | None:
    from huggingface_hub import errors

    first = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), type(err).__name__)[:200]
    status = getattr(getattr(err, "response", None), "status_code", None)
    if isinstance(err, errors.HfHubHTTPError) and status in (401, 403):
        return PublishError(f"the Hub refused the token for {repo_id} (HTTP {status}): it needs write access to "
                            "that namespace; log in again with `hf auth login` or set HF_TOKEN. Nothing was uploaded")
    if isinstance(err, errors.HfHubHTTPError):
        return PublishError(f"publishing to {repo_id} failed ({type(err).__name__}: {first}). Nothing was "
                            "uploaded (the files go up in one commit, which was not made)")
    name = type(err).__name__
    if isinstance(err, (ConnectionError, TimeoutError, OSError)) or "Connect" in name or "Timeout" in name:
        return PublishError(f"cannot reach the Hugging Face Hub to publish {repo_id} ({name}: {first}); check the "
                            "network (HF_ENDPOINT). Nothing was uploaded")
    return None


def publish(checkpoint: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None,
            snapshot: str | Path | None = None, metrics: str | Path | None = None, report: str | Path | None = None,
            commit_message: str | None = None) -> dict[str, Any]:
    """Upload `checkpoint` + a generated model card to Hub model repo `repo_id` in one commit (module docstring).

    `snapshot` default: config_snapshot.yaml beside the checkpoint (`bioner train` writes it there). `metrics`:
    a metrics.json of this run (`bioner aggregate`); refused if the config_snapshot.yaml beside it is another
    run's. `report`: `bioner report`'s aggregated_results.json. `revision`: a branch (created if missing).
    Returns {repo, revision, commit, url, files}."""
    from huggingface_hub import constants, get_token

    check_repo_id(repo_id)
    ckpt = Path(checkpoint)
    if not ckpt.is_dir():
        raise PublishError(f"{ckpt}: checkpoint directory not found; publish uploads a local checkpoint "
                           "(e.g. models/best_model after `bioner train` or `dvc pull`)")
    snap_path = Path(snapshot) if snapshot else ckpt.parent / "config_snapshot.yaml"
    snap = _read_snapshot(snap_path)
    met = _read_run_metrics(Path(metrics), snap, snap_path) if metrics else None
    group = _report_group(_read_json(Path(report), "aggregated_results.json"), snap, Path(report)) if report else None
    if constants.HF_HUB_OFFLINE:
        raise PublishError("HF_HUB_OFFLINE=1 is set: publishing needs the network; unset it. Nothing was uploaded")
    if get_token() is None:
        raise PublishError("not logged in to the Hugging Face Hub: run `hf auth login` or set HF_TOKEN to a token "
                           "with write access. Nothing was uploaded")
    from .tagger import Tagger

    tagger = Tagger.load(ckpt, device="cpu")  # what goes up must load back: label map, safetensors, tokenizer
    card = model_card(repo_id, tagger.labels, snap, met, group)
    files = sorted({p for pat in UPLOAD_PATTERNS for p in ckpt.glob(pat) if p.is_file()
                    and not p.name.startswith(".")})
    message = commit_message or f"bioner publish: {snap.get('strategy')} on {snap.get('backbone')}, seed " \
                                f"{snap.get('seed')}"
    return _upload(repo_id, files, card, message, private, revision)


def _read_snapshot(snap_path: Path) -> dict[str, Any]:
    if not snap_path.is_file():
        raise PublishError(f"{snap_path}: config snapshot not found (bioner train writes it beside best_model); "
                           "pass --config_snapshot PATH (e.g. metrics/config_snapshot.yaml)")
    snap = _read_yaml(snap_path, "config snapshot written by `bioner train`")
    if "strategy" not in snap or "backbone" not in snap:
        raise PublishError(f"{snap_path}: not a config snapshot written by `bioner train` (no strategy/backbone)")
    return snap


def _read_run_metrics(mpath: Path, snap: dict[str, Any], snap_path: Path) -> dict[str, Any]:
    """This run's metrics.json; refused when the config snapshot beside it is another run's."""
    met = _read_json(mpath, "metrics.json written by `bioner aggregate`")
    if not isinstance(met, dict):
        raise PublishError(f"{mpath}: not a metrics.json written by `bioner aggregate`")
    beside = mpath.parent / "config_snapshot.yaml"
    mine = (snap.get("run") or {}).get("fingerprint")
    if beside.is_file() and mine and (other := (_read_yaml(beside, "config snapshot").get("run") or {})
                                      .get("fingerprint")) != mine:
        raise PublishError(f"{mpath} belongs to another run (fingerprint {other} in {beside}, {mine} in "
                           f"{snap_path}); pass the metrics of this checkpoint")
    return met


def _upload(repo_id: str, files: list[Path], card: str, message: str, private: bool,
            revision: str | None) -> dict[str, Any]:
    """One commit: the checkpoint's files and the card as README.md (the repo and branch created if missing)."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi()
    ops = [CommitOperationAdd(path_in_repo=p.name, path_or_fileobj=str(p)) for p in files]
    ops.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card.encode("utf-8")))
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        info = api.create_commit(repo_id, ops, commit_message=message, revision=revision)
    except Exception as err:
        mapped = _hub_error(err, repo_id)
        if mapped is None:
            raise
        raise mapped from None
    log.info("published %d files to %s (commit %s)", len(ops), repo_id, info.oid)
    return {"repo": repo_id, "revision": revision or "main", "commit": info.oid, "url": str(url),
            "files": [p.name for p in files] + ["README.md"]}
