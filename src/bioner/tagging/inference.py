"""Word-level tagging with a trained checkpoint: the one inference path of `evaluate` and `predict`.

Streaming: sentences are read `chunk_size` at a time, so memory stays bounded whatever the input size. Each
chunk is tokenized in one fast-tokenizer call (no special tokens), its pieces are sorted by length and run in
batches of `batch_size` with dynamic padding under `torch.inference_mode`, and the predictions are yielded in
input order. A word is labelled by its first sub-token (as in training, align.py).

A sentence longer than the model's limit is tagged in overlapping windows of whole words (`plan_windows`),
never truncated: consecutive windows share about a quarter of the budget, and each word is read from the one
window that owns it -- the overlap is split at its midpoint, so a word near a cut still has roughly 1/8 of
the budget of context on that side. A single word longer than the whole budget is cut to the budget (its first
sub-token, the one that carries the label, is kept).

Hand-written rather than `transformers.pipeline("token-classification")`: the pipeline runs one text at a time,
regroups sub-tokens into words with a heuristic and truncates long texts unless given a stride; we need
pre-tokenized words, length-sorted batches and windows. benchmarks/bench_predict.py checks both give the same
spans and measures the speed-up.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from ..data.corpus import has_blank, is_blank
from ..errors import UserError

#: Sentences read, sorted and tagged together (bounds memory; larger = less padding).
DEFAULT_CHUNK_SIZE = 4096


class WindowError(UserError, ValueError):
    """A window length too small for the model (one line; the CLI exits 2)."""


@dataclass
class WordPrediction:
    labels: list[str]  # one label per word (argmax at the word's first sub-token; not IOB2-repaired)
    scores: list[float]  # probability of that label at the word's first sub-token


def max_positions(tokenizer: PreTrainedTokenizerFast, model: PreTrainedModel, max_length: int | None = None
                  ) -> int:
    """Sub-token positions one forward pass may use, special tokens included."""
    limits = [getattr(model.config, "max_position_embeddings", None) or 512]
    if tokenizer.model_max_length and tokenizer.model_max_length < 10**6:
        limits.append(tokenizer.model_max_length)  # e.g. RoBERTa: 514 position embeddings, 512 usable
    if max_length:
        limits.append(max_length)
    return min(limits)


def plan_windows(lens: Sequence[int], budget: int, overlap: int | None = None) -> list[tuple[int, int, int, int]]:
    """Overlapping word windows for a sentence whose words have `lens` sub-tokens.

    Returns (start, end, own_start, own_end) per window, word indices, end-exclusive: the window feeds words
    [start, end) to the model (at most `budget` sub-tokens unless one word alone is longer), and the words
    [own_start, own_end) take their labels from it. Owned ranges tile [0, len(lens)) in order.
    """
    n = len(lens)
    overlap = budget // 4 if overlap is None else overlap
    spans: list[tuple[int, int]] = []
    a = 0
    while True:
        b, used = a, 0
        while b < n and used + lens[b] <= budget:
            used += lens[b]
            b += 1
        b = max(b, a + 1)  # a single word longer than the budget gets a window of its own
        spans.append((a, b))
        if b >= n:
            break
        c, ctx = b, 0  # next window restarts `overlap` sub-tokens back, but always moves forward
        while c - 1 > a and ctx + lens[c - 1] <= overlap:
            c -= 1
            ctx += lens[c]
        a = c
    cuts = [0] + [(spans[i + 1][0] + spans[i][1]) // 2 for i in range(len(spans) - 1)] + [n]
    return [(a, b, cuts[i], cuts[i + 1]) for i, (a, b) in enumerate(spans)]


@dataclass
class _Piece:
    sent: int  # sentence index within the chunk
    ids: list[int]  # model input, special tokens included
    first_word: int  # index of the first owned word
    positions: list[int]  # position in `ids` of each owned word's first sub-token


class _Encoder:
    """Words -> pieces (one per sentence, or one per window for long sentences)."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast, limit: int) -> None:
        self.tok = tokenizer
        probe = tokenizer(["a"], is_split_into_words=True)
        wids = probe.word_ids()
        first = wids.index(0)
        self.prefix = probe["input_ids"][:first]
        self.suffix = probe["input_ids"][first + 1:]
        n_special = len(self.prefix) + len(self.suffix)
        self.budget = limit - n_special
        if self.budget < 1:
            raise WindowError(f"max_length={limit}: leaves no room for words after the model's {n_special} "
                              f"special tokens; allowed: >= {n_special + 1} for this model")

    @staticmethod
    def _starts(word_ids: list[int | None], n: int) -> list[int]:
        starts = [-1] * n
        prev = None
        for p, w in enumerate(word_ids):
            if w is not None and w != prev:
                starts[w] = p
            prev = w
        return starts

    def encode(self, chunk: list[Sequence[str]]) -> list[_Piece]:
        rows = [i for i, words in enumerate(chunk) if len(words)]
        if not rows:
            return []
        enc = self.tok([list(chunk[i]) for i in rows], is_split_into_words=True, add_special_tokens=False,
                       verbose=False)
        pieces: list[_Piece] = []
        for k, si in enumerate(rows):
            words = chunk[si]
            ids = enc["input_ids"][k]
            starts = self._starts(enc.word_ids(k), len(words))
            if -1 in starts:  # words with no sub-token (odd Unicode): unk keeps their place, as in training
                fixed = [self.tok.unk_token if s < 0 else w for w, s in zip(words, starts, strict=True)]
                one = self.tok([fixed], is_split_into_words=True, add_special_tokens=False, verbose=False)
                ids = one["input_ids"][0]
                starts = self._starts(one.word_ids(0), len(words))
            pieces.extend(self._split(si, ids, starts))
        return pieces

    def _split(self, si: int, ids: list[int], starts: list[int]) -> Iterator[_Piece]:
        pre = len(self.prefix)
        if len(ids) <= self.budget:
            yield _Piece(si, self.prefix + ids + self.suffix, 0, [pre + s for s in starts])
            return
        n = len(starts)
        bounds = [*starts, len(ids)]
        lens = [bounds[w + 1] - bounds[w] for w in range(n)]
        for a, b, own_a, own_b in plan_windows(lens, self.budget):
            sub = ids[bounds[a]:bounds[b]][: self.budget]
            yield _Piece(si, self.prefix + sub + self.suffix, own_a,
                         [pre + starts[w] - starts[a] for w in range(own_a, own_b)])


def tag_words(
    sentences: Iterable[Sequence[str]],
    tokenizer: PreTrainedTokenizerFast,
    model: PreTrainedModel,
    *,
    batch_size: int = 64,
    max_length: int | None = None,
    device: str | torch.device | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[WordPrediction]:
    """Yield one WordPrediction per sentence, in input order, reading `sentences` lazily `chunk_size` at a time.

    `max_length` caps the positions per forward pass (default: the model's and tokenizer's limit).

    Whitespace-only words ("", a tab) are not shown to the model: they are labelled O with score 1.0, so they
    never join a span, and the other words are tagged as if they were absent.
    """
    shapes: deque[tuple[int, list[int]] | None] = deque()  # (words, indices of the visible ones) or None: all

    def visible() -> Iterator[Sequence[str]]:
        for words in sentences:
            if has_blank(words):
                keep = [i for i, w in enumerate(words) if not is_blank(w)]
                shapes.append((len(words), keep))
                yield [words[i] for i in keep]
            else:
                shapes.append(None)
                yield words

    for pred in _tag_visible(visible(), tokenizer, model, batch_size=batch_size, max_length=max_length,
                             device=device, chunk_size=chunk_size):
        shape = shapes.popleft()
        if shape is None:
            yield pred
            continue
        n, keep = shape
        labels, scores = ["O"] * n, [1.0] * n
        for j, i in enumerate(keep):
            labels[i], scores[i] = pred.labels[j], pred.scores[j]
        yield WordPrediction(labels, scores)


def _tag_visible(sentences: Iterable[Sequence[str]], tokenizer: PreTrainedTokenizerFast, model: PreTrainedModel, *,
                 batch_size: int, max_length: int | None, device: str | torch.device | None,
                 chunk_size: int) -> Iterator[WordPrediction]:
    """tag_words for sentences without whitespace-only words."""
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    encoder = _Encoder(tokenizer, max_positions(tokenizer, model, max_length))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    dev = torch.device(device) if device else next(model.parameters()).device
    model.to(dev)
    model.eval()
    it = iter(sentences)
    while chunk := list(itertools.islice(it, chunk_size)):
        label_ids = [[0] * len(words) for words in chunk]
        scores = [[1.0] * len(words) for words in chunk]
        pieces = sorted(encoder.encode(chunk), key=lambda p: len(p.ids))
        with torch.inference_mode():
            for b0 in range(0, len(pieces), batch_size):
                batch = pieces[b0:b0 + batch_size]
                width = len(batch[-1].ids)  # sorted: the last piece is the longest
                ids = torch.tensor([p.ids + [pad_id] * (width - len(p.ids)) for p in batch])
                mask = torch.tensor([[1] * len(p.ids) + [0] * (width - len(p.ids)) for p in batch])
                logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits
                rows = torch.tensor([r for r, p in enumerate(batch) for _ in p.positions],
                                    dtype=torch.long, device=logits.device)
                cols = torch.tensor([c for p in batch for c in p.positions], dtype=torch.long, device=logits.device)
                conf, arg = torch.softmax(logits[rows, cols].float(), dim=-1).max(dim=-1)
                conf_l, arg_l = conf.tolist(), arg.tolist()
                k = 0
                for p in batch:
                    m = len(p.positions)
                    label_ids[p.sent][p.first_word:p.first_word + m] = arg_l[k:k + m]
                    scores[p.sent][p.first_word:p.first_word + m] = conf_l[k:k + m]
                    k += m
        for lab, sc in zip(label_ids, scores, strict=True):
            yield WordPrediction([id2label[x] for x in lab], sc)
