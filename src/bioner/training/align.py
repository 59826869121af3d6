"""BIO words -> sub-token features as an Arrow-backed `datasets.Dataset`.

The first sub-token of each word carries the word's label; other sub-tokens, special tokens and padding get
-100. Words the tokenizer turns into zero sub-tokens (control characters, odd Unicode) are replaced by the unk
token before tokenising, so they keep a position and no label shifts. Sentences longer than `max_length`
sub-tokens are truncated for training and counted.

Speed (benchmarks/bench_data.py): with `is_split_into_words` a fast tokenizer splits every word on its own, so a
sentence's sub-tokens are its words' sub-tokens in order, between the special tokens. `_WordMemo` therefore
tokenizes each distinct word once (a corpus has far fewer distinct words than words) and assembles the
sentences with numpy on Arrow buffers; the first sub-tokens' alignment falls out of the word boundaries. The
reference path (`_encode_batch_plain`: one batched tokenizer call per 1,000 sentences in `datasets.map`, labels
from `word_ids()`) runs on the first sentences of every call and must agree exactly; a tokenizer for which it
does not (per-word sub-tokens that depend on context) gets the reference path for the whole call."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset
from datasets.table import InMemoryTable
from tokenizers import Tokenizer
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


def _encode_batch_plain(batch: dict[str, list], tokenizer: PreTrainedTokenizerFast, max_length: int,
                        ) -> dict[str, Any]:
    """Reference path: one batched tokenizer call over whole sentences, alignment from `word_ids()`."""
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


class _WordMemo:
    """Sub-token ids per distinct word (each tokenized once) and the vectorized sentence assembly from them.

    Hand-written because tokenizing was the bottleneck and the tokenizer has no per-word cache: a per-sentence
    loop and one batched call per 1,000 sentences cost about the same (the Rust tokenizer and transformers'
    per-sentence `_convert_encoding` dominate; figures in docs/benchmarks.md s.6).
    Sentences are then assembled with numpy on Arrow buffers (no Python loop over words): prefix special tokens,
    the words' sub-tokens cut to `max_length`, suffix special tokens; the label sits on each word's first one.
    """

    CHECK = 64  # first sentences encoded both ways; any difference -> the plain path for the whole call
    CHUNK = 100_000  # sentences per vectorized pass

    def __init__(self, tokenizer: PreTrainedTokenizerFast, label2id: dict[str, int]) -> None:
        self.tok = tokenizer
        self.labels, self.label_ids = pa.array(list(label2id)), np.asarray(list(label2id.values()), np.int64)
        # a copy of the Rust tokenizer without the padding/truncation some tokenizer.json files configure
        self.backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        self.backend.no_padding()
        self.backend.no_truncation()
        probe = tokenizer(["a"], is_split_into_words=True)
        ids, wids = probe["input_ids"], probe.word_ids()
        first, last = wids.index(0), len(wids) - 1 - wids[::-1].index(0)
        self.prefix = np.asarray(ids[:first], dtype=np.int64)
        self.suffix = np.asarray(ids[last + 1:], dtype=np.int64)
        self.unk = tokenizer.unk_token_id
        self.ok: bool | None = None if self.unk is not None else False  # None: not checked yet
        self.index: dict[str, int] = {}  # distinct word -> memo index
        self.plen = np.zeros(0, np.int64)  # sub-tokens per memo word
        self.pstart = np.zeros(0, np.int64)  # offset of its first sub-token in `flat`
        self.flat = np.zeros(0, np.int64)

    def _lookup(self, words: pa.Array) -> np.ndarray:
        """Memo index of every word occurrence; words not seen yet are tokenized (one call) and added."""
        enc = pc.dictionary_encode(words)  # the batch's distinct words + an index per occurrence, in C
        distinct = enc.dictionary.to_pylist()
        new = [w for w in distinct if w not in self.index]
        if new:
            # pre-tokenized sequences of 4,096 new words (each word is still split on its own): fewer Encoding
            # objects than one encoding per word (docs/benchmarks.md s.6), and encode_batch uses the tokenizers'
            # thread pool unless TOKENIZERS_PARALLELISM=false
            step = 4096
            encs = self.backend.encode_batch([new[i:i + step] for i in range(0, len(new), step)],
                                             is_pretokenized=True, add_special_tokens=False)
            ids = np.fromiter(chain.from_iterable(e.ids for e in encs), np.int64)
            wids = np.fromiter(chain.from_iterable((i * step + w for w in e.word_ids) for i, e in enumerate(encs)),
                               np.int64)
            lens = np.bincount(wids, minlength=len(new)).astype(np.int64)
            fixed = np.maximum(lens, 1)  # a word with no sub-token at all keeps its place as unk
            start = np.cumsum(fixed) - fixed
            piece = np.full(int(fixed.sum()), self.unk, np.int64)
            piece[start[wids] + np.arange(len(ids)) - (np.cumsum(lens) - lens)[wids]] = ids
            self.pstart = np.concatenate([self.pstart, len(self.flat) + start])
            self.plen = np.concatenate([self.plen, fixed])
            self.flat = np.concatenate([self.flat, piece])
            base = len(self.index)
            self.index.update((w, base + i) for i, w in enumerate(new))
        to_memo = np.fromiter((self.index[w] for w in distinct), np.int64, len(distinct))
        return to_memo[enc.indices.to_numpy(zero_copy_only=False)]

    def encode_batch(self, batch: pa.Table, max_length: int) -> pa.Table:
        col = batch.column("tokens").combine_chunks()
        counts = pc.list_value_length(col).to_numpy(zero_copy_only=False).astype(np.int64)  # words/sentence
        widx = self._lookup(pc.list_flatten(col))
        n, lens = len(counts), self.plen[widx]
        wtok = np.zeros(len(lens) + 1, np.int64)  # sub-token offset of each word occurrence (batch-wide)
        np.cumsum(lens, out=wtok[1:])
        woff = np.zeros(n + 1, np.int64)  # word offset of each sentence
        np.cumsum(counts, out=woff[1:])
        ts, ntok = wtok[woff[:-1]], wtok[woff[1:]] - wtok[woff[:-1]]
        n_pre, n_suf = len(self.prefix), len(self.suffix)
        keep = np.clip(ntok, 0, max(0, max_length - n_pre - n_suf))  # truncation
        sid_w = np.repeat(np.arange(n), counts)
        # a word is kept when its first sub-token survives truncation (as word_ids() counts it)
        n_words = np.bincount(sid_w[wtok[:-1] - ts[sid_w] < keep[sid_w]], minlength=n).astype(np.int64)
        total = int(wtok[-1])
        tok_ids = self.flat[np.repeat(self.pstart[widx] - wtok[:-1], lens) + np.arange(total)]
        sid_t = np.repeat(np.arange(n), ntok)
        rel_t = np.arange(total) - ts[sid_t]
        kept = rel_t < keep[sid_t]
        out_len = keep + n_pre + n_suf
        ooff = np.zeros(n + 1, np.int64)
        np.cumsum(out_len, out=ooff[1:])
        dest_body = ooff[:-1][sid_t[kept]] + n_pre + rel_t[kept]
        dest_pre = (ooff[:-1, None] + np.arange(n_pre)).ravel()
        dest_suf = (ooff[:-1, None] + n_pre + keep[:, None] + np.arange(n_suf)).ravel()

        def assemble(body: np.ndarray, pre: np.ndarray, suf: np.ndarray, dtype: Any) -> pa.ListArray:
            out = np.empty(int(ooff[-1]), np.int64)
            out[dest_body], out[dest_pre], out[dest_suf] = body[kept], np.tile(pre, n), np.tile(suf, n)
            return pa.ListArray.from_arrays(pa.array(ooff.astype(np.int32)), pa.array(out.astype(dtype)))

        # column types as datasets infers them for the plain path's Python lists
        cols = {"input_ids": assemble(tok_ids, self.prefix, self.suffix, np.int32),
                "attention_mask": assemble(np.ones(total, np.int64), np.ones(n_pre, np.int64),
                                           np.ones(n_suf, np.int64), np.int8),
                "length": pa.array(out_len), "truncated": pa.array(n_words < counts), "n_words": pa.array(n_words)}
        if "tags" in batch.column_names:
            tags = pc.list_flatten(batch.column("tags").combine_chunks())
            li = pc.index_in(tags, value_set=self.labels)
            if li.null_count:
                raise KeyError(tags.filter(li.is_null())[0].as_py())  # as label2id[tag] would
            lab = np.full(total, IGNORE, np.int64)
            lab[wtok[:-1]] = self.label_ids[li.to_numpy(zero_copy_only=False)]
            ign = np.full(max(n_pre, n_suf), IGNORE, np.int64)
            cols["labels"] = assemble(lab, ign[:n_pre], ign[:n_suf], np.int64)
        # a returned table replaces the batch (datasets merges only dicts): keep the other input columns first
        keep_in = {c: batch.column(c) for c in batch.column_names if c != "tags" and c not in cols}
        return pa.table({**keep_in, **cols})


def _plain(batch: dict[str, list], tokenizer: PreTrainedTokenizerFast, max_length: int,
           label2id: dict[str, int]) -> dict[str, Any]:
    """The reference path with tags (mapped to ids here) instead of label ids."""
    data = dict(batch)
    if "tags" in data:
        data["label_ids"] = [[label2id[t] for t in seq] for seq in data.pop("tags")]
    return _encode_batch_plain(data, tokenizer, max_length)


def _input_table(tokens: list[list[str]], tags: list[list[str]] | None,
                 extra_columns: dict[str, list] | None) -> pa.Table:
    cols: dict[str, pa.Array] = {"tokens": pa.array(tokens, type=pa.list_(pa.string()))}
    if tags is not None:
        cols["tags"] = pa.array(tags, type=pa.list_(pa.string()))  # mapped to ids in Arrow, not per tag in Python
    cols.update({k: pa.array(v) for k, v in (extra_columns or {}).items()})
    return pa.table(cols)


def encode(
    tokens: list[list[str]],
    tags: list[list[str]] | None,
    label2id: dict[str, int],
    tokenizer: PreTrainedTokenizerFast,
    max_length: int,
    extra_columns: dict[str, list] | None = None,
    desc: str = "align",
) -> Dataset:
    """Build a Dataset with input_ids, attention_mask, labels (-100 off first sub-tokens), length and any extra
    per-example columns (e.g. `weight`, `source`)."""
    table = _input_table(tokens, tags, extra_columns)
    memo = _WordMemo(tokenizer, label2id)
    head = table.slice(0, memo.CHECK)
    if len(table) and memo.ok is None:  # both paths on the first sentences must agree exactly
        fast = memo.encode_batch(head, max_length).to_pydict()
        ref = _plain(head.to_pydict(), tokenizer, max_length, label2id)
        memo.ok = all(fast[k] == ref[k] for k in ref)
        if not memo.ok:
            log.info("tokenizer %s: per-word sub-tokens depend on context; using the plain batched path",
                     type(tokenizer).__name__)
    # fingerprint: an in-memory dataset has no cache file to name; without it datasets dill-hashes the data
    # (and, in map, the tokenizer: seconds per call for a large vocab, docs/benchmarks.md s.6)
    if memo.ok:
        # whole chunks in one vectorized pass: datasets.map's batching and re-writing of every column cost more
        # than the alignment itself (docs/benchmarks.md s.6); chunks bound the numpy temporaries on huge corpora
        out = pa.concat_tables([memo.encode_batch(table.slice(i, memo.CHUNK), max_length)
                                for i in range(0, len(table), memo.CHUNK)])
        ds = Dataset(InMemoryTable(out), fingerprint=uuid.uuid4().hex)
    else:
        ds = Dataset(InMemoryTable(table), fingerprint=uuid.uuid4().hex).map(
            _plain, batched=True, batch_size=1000, desc=desc,
            fn_kwargs={"tokenizer": tokenizer, "max_length": max_length, "label2id": label2id},
            remove_columns=[c for c in ("tags",) if c in table.column_names],
            new_fingerprint=uuid.uuid4().hex,
        )
    # pyarrow sum: `sum(ds["truncated"])` formats row by row in datasets 5 (docs/benchmarks.md s.6)
    n_trunc = pc.sum(ds.data.column("truncated")).as_py() or 0
    if n_trunc:
        log.warning("%s: %d of %d sentences longer than max_length=%d sub-tokens were truncated",
                    desc, n_trunc, len(ds), max_length)
    return ds
