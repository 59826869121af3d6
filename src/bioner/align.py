"""BIO words -> sub-token features via `datasets` (batched, Arrow-backed `map`).

The first sub-token of each word carries the word's label; other sub-tokens, special tokens and padding get
-100. Words the tokenizer turns into zero sub-tokens (control characters, odd Unicode) are replaced by the unk
token before tokenising, so they keep a position and no label shifts. Sentences longer than `max_length`
sub-tokens are truncated for training and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from datasets import Dataset
from transformers import PreTrainedTokenizerFast

log = logging.getLogger(__name__)

IGNORE = -100


def first_subtoken_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Label ids per sub-token: the word's label on its first sub-token, -100 elsewhere."""
    out, prev = [], None
    for w in word_ids:
        out.append(IGNORE if w is None or w == prev else word_labels[w])
        prev = w
    return out


def empty_words(tokenizer: PreTrainedTokenizerFast, words: list[str]) -> list[int]:
    """Indices of words that produce no sub-token at all."""
    enc = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    seen = set(enc.word_ids())
    return [i for i in range(len(words)) if i not in seen]


def _encode_batch(batch: dict[str, list], tokenizer: PreTrainedTokenizerFast, max_length: int) -> dict[str, Any]:
    tokens: list[list[str]] = batch["tokens"]
    enc = tokenizer(tokens, is_split_into_words=True, truncation=True, max_length=max_length)
    # Zero-sub-token words: rare, so detect them cheaply from the batch encoding; re-encode only if one is found.
    unk = tokenizer.unk_token
    fixed_tokens, redo = list(tokens), False
    for i, words in enumerate(tokens):
        present = {w for w in enc.word_ids(i) if w is not None}
        # fewer words than given: a zero-sub-token word (anywhere, also the last one) or truncation
        if len(present) != len(words):
            gone = set(empty_words(tokenizer, words))
            if gone:
                fixed_tokens[i] = [unk if j in gone else w for j, w in enumerate(words)]
                redo = True
    if redo:
        enc = tokenizer(fixed_tokens, is_split_into_words=True, truncation=True, max_length=max_length)
    labels, truncated, n_words_kept = [], [], []
    for i, words in enumerate(tokens):
        wids = enc.word_ids(i)
        kept = max((w for w in wids if w is not None), default=-1) + 1
        n_words_kept.append(kept)
        truncated.append(kept < len(words))
        labels.append(first_subtoken_labels(wids, batch["label_ids"][i]) if "label_ids" in batch else [])
    out = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
           "length": [len(x) for x in enc["input_ids"]], "truncated": truncated, "n_words": n_words_kept}
    if "label_ids" in batch:
        out["labels"] = labels
    return out


def encode(
    tokens: list[list[str]],
    tags: list[list[str]] | None,
    label2id: dict[str, int],
    tokenizer: PreTrainedTokenizerFast,
    max_length: int,
    extra_columns: dict[str, list] | None = None,
    num_proc: int | None = None,
    desc: str = "align",
) -> Dataset:
    """Build a Dataset with input_ids, attention_mask, labels (-100 off first sub-tokens), length and any extra
    per-example columns (e.g. `weight`, `source`)."""
    data: dict[str, list] = {"tokens": tokens}
    if tags is not None:
        data["label_ids"] = [[label2id[t] for t in seq] for seq in tags]
    data.update(extra_columns or {})
    ds = Dataset.from_dict(data)
    ds = ds.map(
        _encode_batch, batched=True, batch_size=1000, num_proc=num_proc, desc=desc,
        fn_kwargs={"tokenizer": tokenizer, "max_length": max_length},
        remove_columns=[c for c in ("label_ids",) if c in ds.column_names],
    )
    n_trunc = sum(ds["truncated"])
    if n_trunc:
        log.warning("%s: %d of %d sentences longer than max_length=%d sub-tokens were truncated",
                    desc, n_trunc, len(ds), max_length)
    return ds
