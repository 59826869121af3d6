"""Word-level tagging with a trained checkpoint: the one inference path of `evaluate` and `predict`.

Sentences are sorted by length and batched with dynamic padding under `torch.inference_mode`. A sentence
longer than the model's max length is tagged in overlapping windows of words and stitched (each word takes
the prediction from the window where it sits furthest from an edge), so nothing is truncated silently.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from .align import empty_words


@dataclass
class WordPrediction:
    labels: list[str]  # one label per word
    scores: list[float]  # probability of that label at the word's first sub-token


def _chunks(words: list[str], tokenizer: PreTrainedTokenizerFast, budget: int, stride_words: int
            ) -> list[tuple[int, int]]:
    """Word windows [start, end) whose sub-token count (plus specials) fits `budget`, overlapping."""
    lens = [max(1, len(tokenizer.tokenize(w))) for w in words]
    spans, start = [], 0
    while start < len(words):
        end, used = start, 0
        while end < len(words) and used + lens[end] <= budget:
            used += lens[end]
            end += 1
        end = max(end, start + 1)
        spans.append((start, end))
        if end >= len(words):
            break
        start = max(start + 1, end - stride_words)
    return spans


def tag_words(
    sentences: Sequence[list[str]],
    tokenizer: PreTrainedTokenizerFast,
    model: PreTrainedModel,
    *,
    batch_size: int = 64,
    max_length: int | None = None,
    device: str | torch.device | None = None,
) -> Iterator[WordPrediction]:
    """Yield one WordPrediction per sentence, in input order."""
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    limit = min(max_length or 10**9, getattr(model.config, "max_position_embeddings", 512),
                tokenizer.model_max_length if tokenizer.model_max_length < 10**6 else 10**9)
    budget = limit - tokenizer.num_special_tokens_to_add(pair=False)
    dev = torch.device(device) if device else next(model.parameters()).device
    model.to(dev)
    # words with zero sub-tokens get the unk token so every word has a first sub-token
    unk = tokenizer.unk_token
    pieces: list[tuple[int, int, int, list[str]]] = []  # (sentence, word offset, n words, words)
    for si, words in enumerate(sentences):
        clean = list(words)
        for j in empty_words(tokenizer, clean) if clean else []:
            clean[j] = unk
        if not clean:
            pieces.append((si, 0, 0, []))
            continue
        spans = _chunks(clean, tokenizer, budget, stride_words=max(1, budget // 8)) \
            if sum(len(tokenizer.tokenize(w)) for w in clean) > budget else [(0, len(clean))]
        for a, b in spans:
            pieces.append((si, a, b - a, clean[a:b]))
    order = sorted(range(len(pieces)), key=lambda i: len(pieces[i][3]))
    # per sentence: list of (label_id, score, distance-from-edge) per word
    best: list[list[tuple[int, float, int]]] = [[(0, 1.0, -1)] * len(s) for s in sentences]
    with torch.inference_mode():
        for b0 in range(0, len(order), batch_size):
            idx = [i for i in order[b0:b0 + batch_size] if pieces[i][2] > 0]
            if not idx:
                continue
            enc = tokenizer([pieces[i][3] for i in idx], is_split_into_words=True, truncation=True,
                            max_length=limit, padding=True, return_tensors="pt")
            logits = model(input_ids=enc["input_ids"].to(dev),
                           attention_mask=enc["attention_mask"].to(dev)).logits
            probs = torch.softmax(logits.float(), dim=-1)
            conf, arg = probs.max(dim=-1)
            conf, arg = conf.cpu().tolist(), arg.cpu().tolist()
            for row, i in enumerate(idx):
                si, off, n, _ = pieces[i]
                prev = None
                for pos, w in enumerate(enc.word_ids(row)):
                    if w is None or w == prev:
                        prev = w
                        continue
                    prev = w
                    edge = min(w, n - 1 - w)
                    if edge > best[si][off + w][2]:
                        best[si][off + w] = (arg[row][pos], conf[row][pos], edge)
    for s in best:
        yield WordPrediction([id2label[x[0]] for x in s], [float(x[1]) for x in s])
