"""Loading a checkpoint for `bioner.tagging.tagger.Tagger`: the typed errors, the label-map check, the device and int8
choice, and the Hub download with its errors as one line. `bioner.tagging.tagger` re-exports every name here."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..errors import UserError

if TYPE_CHECKING:
    from transformers import PreTrainedModel

QUANTIZE_MODES = ("int8",)
#: Files a checkpoint needs (weights, config, tokenizer). Pickle weights only with allow_pickle.
HUB_PATTERNS = ("*.json", "*.safetensors", "*.txt", "*.model", "README.md")


class TaggerError(UserError, RuntimeError):
    """A model that cannot be loaded or used as asked; the message is one line and says what to do."""


class CheckpointError(TaggerError):
    """The checkpoint is missing, unreadable, pickle-only, or its label map is missing or inconsistent."""


class HubError(TaggerError):
    """A Hub model id that does not exist, a missing revision, no network, or offline mode without a cached copy."""


class QuantizeError(TaggerError):
    """Quantization asked for where it cannot run (an unknown mode, a GPU, a torch without quantized kernels)."""


class EvaluateError(TaggerError):
    """A gold file that cannot be scored as asked (types the model does not predict, types outside the field)."""


def check_label_map(checkpoint: str | Path, config: dict[str, Any]) -> list[str]:
    """The checkpoint's labels in id order, or CheckpointError if config.json's label map is missing or not a BIO
    map (O plus B-/I- pairs, ids 0..n-1, label2id the inverse of id2label). A model without one would tag with
    transformers' placeholder names LABEL_0.. and every span would come out wrong."""
    where = f"{checkpoint}: config.json"
    fix = "Fix: use a checkpoint written by `bioner train` (models/best_model), or repair id2label/label2id"
    raw = config.get("id2label")
    if not isinstance(raw, dict) or not raw:
        raise CheckpointError(f"{where} has no label map (id2label). {fix}")
    try:
        id2label = {int(k): v for k, v in raw.items()}
    except (TypeError, ValueError):
        raise CheckpointError(f"{where}: id2label keys {sorted(raw)} are not integer ids. {fix}") from None
    n = len(id2label)
    if sorted(id2label) != list(range(n)):
        raise CheckpointError(f"{where}: id2label ids {sorted(id2label)} are not 0..{n - 1}. {fix}")
    labels = [id2label[i] for i in range(n)]
    if all(isinstance(lab, str) and re.fullmatch(r"LABEL_\d+", lab) for lab in labels):
        raise CheckpointError(f"{where} has only transformers' placeholder labels {labels[:3]}...: no label map "
                              f"was saved. {fix}")
    bad = [lab for lab in labels if not (isinstance(lab, str) and (lab == "O" or re.fullmatch(r"[BI]-\S+", lab)))]
    if bad:
        raise CheckpointError(f"{where}: labels {bad} are not O, B-<type> or I-<type>. {fix}")
    if len(set(labels)) != n or "O" not in labels:
        dup = sorted({lab for lab in labels if labels.count(lab) > 1})
        raise CheckpointError(f"{where}: " + (f"labels {dup} appear twice" if dup else "no 'O' label")
                              + f" in id2label. {fix}")
    types_b = {lab[2:] for lab in labels if lab.startswith("B-")}
    types_i = {lab[2:] for lab in labels if lab.startswith("I-")}
    if types_b != types_i:
        odd = sorted(types_b ^ types_i)
        raise CheckpointError(f"{where}: types {odd} have a B- label without an I- label or the reverse. {fix}")
    label2id = config.get("label2id")
    if label2id is not None and label2id != {lab: i for i, lab in enumerate(labels)}:
        raise CheckpointError(f"{where}: label2id {label2id} is not the inverse of id2label {id2label}. {fix}")
    return labels


def _resolve_device(device: str | torch.device | None, quantize: str | None = None) -> torch.device:
    if quantize is not None and quantize not in QUANTIZE_MODES:
        raise QuantizeError(f"quantize={quantize!r}: allowed values are {', '.join(QUANTIZE_MODES)} or None")
    if device is None:
        return torch.device("cpu" if quantize or not torch.cuda.is_available() else "cuda")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise TaggerError(f"device {device!r}: {err}; use cpu, cuda, cuda:<n> or mps") from None
    if quantize and dev.type != "cpu":
        raise QuantizeError(f"quantize={quantize!r} (PyTorch dynamic quantization) runs on CPU only, not on "
                            f"{device}; use device='cpu' (--device cpu), or drop quantize on a GPU")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise TaggerError(f"device {device!r}: CUDA is not available in this torch build / machine; use cpu")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise TaggerError(f"device {device!r}: MPS is not available on this machine; use cpu")
    return dev


def quantize_int8(model: PreTrainedModel, device: torch.device) -> PreTrainedModel:
    """PyTorch dynamic int8 quantization of the encoder's Linear layers: weights int8 with one scale per output
    channel, activations quantized per batch on the fly; the classifier head stays fp32. CPU only. Per-channel
    rather than torch's default per-tensor scales: on the MiniLM checkpoint per-tensor lost several times the
    F1 (docs/benchmarks.md s.5)."""
    if device.type != "cpu":
        raise QuantizeError(f"quantize='int8' (PyTorch dynamic quantization) runs on CPU only, not on {device}; "
                            "use device='cpu' (--device cpu), or drop quantize on a GPU")
    engines = set(torch.backends.quantized.supported_engines) - {"none"}
    if not engines:
        raise QuantizeError("quantize='int8': this torch build has no quantized CPU kernels "
                            "(torch.backends.quantized.supported_engines is empty); drop --quantize")
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {name: per_channel_dynamic_qconfig for name, mod in model.named_modules()
            if isinstance(mod, torch.nn.Linear) and name != "classifier"}
    with warnings.catch_warnings():  # torch deprecates eager-mode quantization in favour of torchao (not installed)
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, spec, dtype=torch.qint8)


def _hub_error(err: BaseException, repo_id: str, revision: str | None) -> HubError | None:
    """A huggingface_hub error of a model download as one line (None: not a Hub error)."""
    from huggingface_hub import constants, errors

    rev = f" at revision {revision!r}" if revision else ""
    local = "checkpoint directory not found"
    first = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), type(err).__name__)[:200]
    if isinstance(err, errors.RevisionNotFoundError):
        return HubError(f"{repo_id}: revision {revision!r} not found in that Hub model; pass an existing branch, "
                        "tag or commit sha (--revision)")
    if isinstance(err, errors.GatedRepoError):
        return HubError(f"{repo_id}: the Hub model is gated: accept its conditions on the Hub and log in "
                        "(hf auth login or HF_TOKEN)")
    if isinstance(err, errors.RepositoryNotFoundError):
        return HubError(f"{repo_id}: {local}, and no Hub model {repo_id!r}{rev} either (or it is private: log in with "
                        "hf auth login or set HF_TOKEN); check the name, or pass a local checkpoint directory")
    if isinstance(err, (errors.LocalEntryNotFoundError, errors.OfflineModeIsEnabled)):
        if constants.HF_HUB_OFFLINE:
            return HubError(f"{repo_id}: {local}; as a Hub model id{rev} it is not in the local Hugging Face cache, "
                            "and HF_HUB_OFFLINE=1 forbids downloading it; unset HF_HUB_OFFLINE (with network) or "
                            "pass a local checkpoint directory")
        return HubError(f"{repo_id}: {local}; as a Hub model id{rev} it cannot be downloaded: the Hugging Face Hub "
                        f"is unreachable ({first}); check the network (HF_ENDPOINT), or pass a local checkpoint "
                        "directory")
    if isinstance(err, errors.HfHubHTTPError):
        return HubError(f"{repo_id}: downloading the Hub model{rev} failed ({type(err).__name__}: {first})")
    return None


def download(repo_id: str, revision: str | None = None, allow_pickle: bool = False) -> Path:
    """Download (or find in the Hugging Face cache) a Hub model's checkpoint files; return the local snapshot.

    Only weights, config and tokenizer files are fetched: safetensors, and pickle `.bin` only with allow_pickle.
    The token, if any, comes from huggingface_hub's usual places (HF_TOKEN, the login cache)."""
    from huggingface_hub import snapshot_download

    patterns = [*HUB_PATTERNS, *(["*.bin"] if allow_pickle else [])]
    try:
        path = Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns))
    except Exception as err:
        mapped = _hub_error(err, repo_id, revision)
        if mapped is None:
            raise
        raise mapped from None
    if not any(path.glob("*.safetensors")) and not (allow_pickle and any(path.glob("*.bin"))):
        raise CheckpointError(f"{repo_id}: the Hub model has no *.safetensors weights; pickle weights can run "
                              "arbitrary code when loaded: pass allow_pickle=True (--allow_pickle) only if you "
                              "trust its origin")
    return path


def _is_hub_id(name: str) -> bool:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True
