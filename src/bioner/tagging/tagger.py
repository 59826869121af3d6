"""`from bioner import Tagger`: a trained checkpoint as a Python object -- load, predict spans, score a gold file.

    tagger = Tagger.load("models/best_model")            # or a Hub model id: Tagger.load("user/name")
    tagger.predict(["SARS-CoV-2 binds ACE2 .", ["IL-6", "levels"]])
    tagger.evaluate("gold.jsonl", types=("Gene",))

`bioner predict` and `bioner evaluate` are thin shells over this class; both read words through the one batched,
windowed tagger (bioner.tagging.inference.tag_words) and read spans from IOB2-repaired labels (bioner.data.metrics
scores the same spans). Errors are typed: every failure to load or use a model is a `TaggerError` subclass with a
one-line message that says what to do; problems in an input or gold file are `bioner.data.corpus.CorpusError`
(file:line).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import torch

from ..data.corpus import repair_iob2
from ..data.textsplit import DEFAULT_TOKENIZER, TOKENIZERS, tokenize_with_offsets
from ..settings.backbones import BackboneError
from ..training.modeling import load_checkpoint
from .inference import DEFAULT_CHUNK_SIZE, WordPrediction, tag_words
from .load import CheckpointError, TaggerError, _is_hub_id, _resolve_device, check_label_map, download, quantize_int8
from .precision import apply_precision, check_precision

# the loading half, re-exported: `bioner.tagging.tagger` stays the one import for the tagger and its errors
from .scoring import evaluate_file

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

log = logging.getLogger(__name__)

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
    span starts one), exactly the spans bioner.data.metrics scores."""
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


class Tagger:
    """A trained token classifier: predict spans in texts or token lists, score a gold JSONL file."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast, model: PreTrainedModel, *, source: str = "",
                 device: str | torch.device | None = None, max_length: int | None = None,
                 quantize: str | None = None, precision: str = "fp32") -> None:
        self.tokenizer, self.source, self.max_length = tokenizer, source, max_length
        self.device = _resolve_device(device, quantize)
        check_precision(precision, self.device, quantize)
        model.eval()
        self.model = quantize_int8(model, self.device) if quantize == "int8" else model.to(self.device)
        self.model = apply_precision(self.model, precision)
        self.quantize, self.precision = quantize, precision
        self.labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]

    @classmethod
    def load(cls, path_or_hub_id: str | Path, *, device: str | torch.device | None = None,
             allow_pickle: bool = False, revision: str | None = None, quantize: str | None = None,
             max_length: int | None = None, precision: str = "fp32") -> Tagger:
        """A checkpoint directory (models/best_model) or a Hugging Face Hub model id (downloaded once, then read
        from the cache; `revision` pins a branch, tag or commit). Safetensors only unless `allow_pickle`.

        `device`: cpu, cuda, cuda:1, mps (default: cuda if available). `quantize="int8"`: dynamic int8
        quantization of the encoder's Linear layers, CPU only. `precision="bf16"`: the model in bfloat16, only
        where the hardware has native bf16 (bioner.tagging.precision). `max_length`: sub-tokens per window (default: the
        model's limit; longer sentences are tagged in overlapping windows)."""
        # a bad device, quantize or precision fails before any download or load
        check_precision(precision, _resolve_device(device, quantize), quantize)
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
        return cls(tok, model, source=name, device=device, max_length=max_length, quantize=quantize,
                   precision=precision)

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

    def stream(self, inputs: Iterable[str | Sequence[str]], *, batch_size: int = 64,
               tokenizer: str = DEFAULT_TOKENIZER,
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
                tokenizer: str = DEFAULT_TOKENIZER) -> list[list[Span]]:
        """One list of spans per input. An input is a text (str; split by the `bio` or `punct` rule of
        bioner.data.textsplit, spans carry character offsets into it) or a list of tokens (spans index the tokens).
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
        if isinstance(types, str):  # "Gene,Disease" as on the command line
            types = [t.strip() for t in types.split(",")]
        return evaluate_file(self, gold_jsonl, types=tuple(types) if types is not None else None, field=field,
                             batch_size=batch_size, output=output, conll=conll)
