"""`from bioner import Tagger`: a trained checkpoint as a Python object -- load, predict spans, score a gold file.

    tagger = Tagger.load("models/best_model")            # or a Hub model id: Tagger.load("user/name")
    tagger.predict(["SARS-CoV-2 binds ACE2 .", ["IL-6", "levels"]])
    tagger.evaluate("gold.jsonl", types=("Gene",))

`bioner predict` and `bioner evaluate` are thin shells over this class; both read words through the one batched,
windowed tagger (bioner.inference.tag_words) and read spans from IOB2-repaired labels (bioner.metrics scores the
same spans). Errors are typed: every failure to load or use a model is a `TaggerError` subclass with a one-line
message that says what to do; problems in an input or gold file are `bioner.corpus.CorpusError` (file:line).
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import torch

from .corpus import repair_iob2
from .errors import UserError
from .inference import DEFAULT_CHUNK_SIZE, WordPrediction, tag_words
from .modeling import BackboneError, load_checkpoint
from .textsplit import TOKENIZERS, tokenize_with_offsets

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Span:
    """One predicted entity. `end_token` is inclusive; the character offsets index the input text (text input
    only, [start_char, end_char)); `score` is the mean over the span's words of the probability of the predicted
    label at each word's first sub-token (what `pipeline(aggregation_strategy="first")` reports), 4 decimals."""

    entity: str
    type: str
    start_token: int
    end_token: int
    score: float
    start_char: int | None = None
    end_char: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `bioner predict` writes (character offsets only when known)."""
        d = asdict(self)
        if self.start_char is None:
            del d["start_char"], d["end_char"]
        return d


class Tokenized(Protocol):
    """A sentence as words, with the text and each word's character span when it came from text."""

    tokens: list[str]
    text: str | None
    offsets: list[tuple[int, int]] | None


@dataclass
class _Sentence:
    tokens: list[str]
    text: str | None = None
    offsets: list[tuple[int, int]] | None = None


R = TypeVar("R", bound=Tokenized)


def spans_of(tokens: Sequence[str], labels: list[str], scores: list[float], text: str | None = None,
             offsets: Sequence[tuple[int, int]] | None = None) -> list[Span]:
    """Entity spans of one sentence from its word labels: IOB2-repaired first (an I-X that does not continue an X
    span starts one), exactly the spans bioner.metrics scores."""
    tags, _ = repair_iob2(labels)
    spans: list[Span] = []
    start, typ = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        if start >= 0 and tag != f"I-{typ}":
            end = i - 1
            score = round(sum(scores[start:end + 1]) / (end + 1 - start), 4)
            if text is not None and offsets:
                a, b = offsets[start][0], offsets[end][1]
                spans.append(Span(text[a:b], typ, start, end, score, a, b))
            else:
                spans.append(Span(" ".join(tokens[start:end + 1]), typ, start, end, score))
            start = -1
        if tag.startswith("B-"):
            start, typ = i, tag[2:]
    return spans


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


class Tagger:
    """A trained token classifier: predict spans in texts or token lists, score a gold JSONL file."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast, model: PreTrainedModel, *, source: str = "",
                 device: str | torch.device | None = None, max_length: int | None = None,
                 quantize: str | None = None) -> None:
        self.tokenizer, self.source, self.max_length = tokenizer, source, max_length
        self.device = _resolve_device(device, quantize)
        model.eval()
        self.model = quantize_int8(model, self.device) if quantize == "int8" else model.to(self.device)
        self.quantize = quantize
        self.labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]

    @classmethod
    def load(cls, path_or_hub_id: str | Path, *, device: str | torch.device | None = None,
             allow_pickle: bool = False, revision: str | None = None, quantize: str | None = None,
             max_length: int | None = None) -> Tagger:
        """A checkpoint directory (models/best_model) or a Hugging Face Hub model id (downloaded once, then read
        from the cache; `revision` pins a branch, tag or commit). Safetensors only unless `allow_pickle`.

        `device`: cpu, cuda, cuda:1, mps (default: cuda if available). `quantize="int8"`: dynamic int8
        quantization of the encoder's Linear layers, CPU only. `max_length`: sub-tokens per window (default: the
        model's limit; longer sentences are tagged in overlapping windows)."""
        _resolve_device(device, quantize)  # a bad device or quantize fails before any download or load
        name = str(path_or_hub_id)
        local = Path(name).expanduser()
        if revision is not None and local.exists():
            raise TaggerError(f"{name}: revision={revision!r} applies to Hub model ids only; this is a local path")
        if not local.exists() and _is_hub_id(name):
            local = download(name, revision, allow_pickle)
        if local.is_dir() and (local / "config.json").is_file():
            try:
                config = json.loads((local / "config.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                config = None  # unreadable: load_checkpoint names the file and the error
            if isinstance(config, dict):
                check_label_map(name, config)
        try:
            tok, model = load_checkpoint(local, allow_pickle=allow_pickle)
        except BackboneError as err:
            raise CheckpointError(str(err).replace(str(local), name, 1)) from None
        return cls(tok, model, source=name, device=device, max_length=max_length, quantize=quantize)

    @property
    def entity_types(self) -> tuple[str, ...]:
        """The entity types the model predicts, in label-id order."""
        return tuple(dict.fromkeys(lab[2:] for lab in self.labels if lab != "O"))

    def __repr__(self) -> str:
        q = f", quantize={self.quantize!r}" if self.quantize else ""
        return f"Tagger({self.source!r}, types={list(self.entity_types)}, device={str(self.device)!r}{q})"

    # ------------------------------------------------------------------------------------------- prediction
    def tag_words(self, sentences: Iterable[Sequence[str]], *, batch_size: int = 64,
                  chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[WordPrediction]:
        """Raw word labels (argmax at each word's first sub-token, not IOB2-repaired) and their probabilities."""
        return tag_words(sentences, self.tokenizer, self.model, batch_size=batch_size, max_length=self.max_length,
                         device=self.device, chunk_size=chunk_size)

    def tag_records(self, records: Iterable[R], *, batch_size: int = 64,
                    chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[R, list[Span]]]:
        """(record, spans) per record, in input order, reading `records` lazily (memory stays flat)."""
        pending: deque[R] = deque()

        def words() -> Iterator[list[str]]:
            for rec in records:
                pending.append(rec)
                yield rec.tokens

        for pred in self.tag_words(words(), batch_size=batch_size, chunk_size=chunk_size):
            rec = pending.popleft()
            yield rec, spans_of(rec.tokens, pred.labels, pred.scores, rec.text, rec.offsets)

    def stream(self, inputs: Iterable[str | Sequence[str]], *, batch_size: int = 64, tokenizer: str = "bio",
               chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[list[Span]]:
        """Like `predict`, lazily: one list of spans per input as it is tagged. For an iterator of millions of
        sentences memory stays flat (inputs are read `chunk_size` at a time)."""
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {tokenizer!r}; use one of {', '.join(TOKENIZERS)}")

        def sentences() -> Iterator[_Sentence]:
            for i, x in enumerate([inputs] if isinstance(inputs, str) else inputs):
                if isinstance(x, str):
                    toks = tokenize_with_offsets(x, tokenizer)
                    yield _Sentence([t for t, _, _ in toks], x, [(a, b) for _, a, b in toks])
                elif isinstance(x, Sequence) and all(isinstance(t, str) for t in x):
                    yield _Sentence(list(x))
                else:
                    raise TypeError(f"input {i}: expected a text (str) or a list of token strings, "
                                    f"got {type(x).__name__}")

        for _, spans in self.tag_records(sentences(), batch_size=batch_size, chunk_size=chunk_size):
            yield spans

    def predict(self, inputs: str | Iterable[str | Sequence[str]], *, batch_size: int = 64,
                tokenizer: str = "bio") -> list[list[Span]]:
        """One list of spans per input. An input is a text (str; split by the `bio` or `punct` rule of
        bioner.textsplit, spans carry character offsets into it) or a list of tokens (spans index the tokens).
        A single str is one text. Use `stream` for inputs too large to hold their results in memory."""
        return list(self.stream(inputs, batch_size=batch_size, tokenizer=tokenizer))

    # ------------------------------------------------------------------------------------------- scoring
    def evaluate(self, gold_jsonl: str | Path, *, types: str | Iterable[str] | None = None, field: str | None = None,
                 batch_size: int = 64, output: str | Path | None = None, conll: str | Path | None = None
                 ) -> dict[str, Any]:
        """Micro and per-entity P/R/F1 with gold-span support of this model on a gold JSONL file (records with
        `tokens` and the label `field`, default decoded_tags_pseudo_final).

        The file is gold only for `types` (default: the types it contains): predictions and gold of other types
        are set to O before scoring; predicted labels are IOB2-repaired as predict does. EvaluateError if the
        model predicts none of `types`. Writes the result to `output` and the word-level `token gold pred`
        lines CoNLL's conlleval reads to `conll` (both optional, written atomically)."""
        from .evaluation import evaluate_file

        if isinstance(types, str):  # "Gene,Disease" as on the command line
            types = [t.strip() for t in types.split(",")]
        return evaluate_file(self, gold_jsonl, types=tuple(types) if types is not None else None, field=field,
                             batch_size=batch_size, output=output, conll=conll)
