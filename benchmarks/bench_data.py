"""Data preparation: the project's `bioner.training.align.encode` vs a per-sentence tokenizer loop.

Both turn the same words + 9-tag BIO tags into input_ids / attention_mask / labels (first sub-token labelled,
-100 elsewhere) with the same fast tokenizer and max_length:

- baseline: the obvious script, one tokenizer call per sentence and alignment from `word_ids()`;
- `encode`: the project's path (each distinct word tokenized once, sentences assembled with numpy into an
  Arrow-backed `datasets.Dataset`);
- for context, `datasets.map` with one batched tokenizer call per 1,000 sentences (encode's reference path, and
  what it did before this benchmark found the tokenizer to be the bottleneck).

Sentences: BC5CDR train+validation+test and the silver corpus (~50k) read in place from $BIONER_REAL_DATA
(default ../shared/data) and the synthetic sample. Tokenizers: the `tiny` backbone's (WordPiece trained on the
corpus, as `bioner train` builds it) and all-MiniLM-L6-v2's. Each figure is the best of --repeat runs (the
baseline: one run); the script waits for the machine to be quiet first and prints the load average.

    OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false python benchmarks/bench_data.py [--data real,sample]
        [--backbones tiny,minilm] [--json scratch/bench/data.json]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import common  # noqa: E402  (sets thread/offline env before torch is imported)
from datasets import Dataset  # noqa: E402

from bioner.data.corpus import load_corpus  # noqa: E402
from bioner.settings.labels import DATA_FILES, FIELD_FULL, SEED_TYPES  # noqa: E402
from bioner.settings.sections import TinySettings  # noqa: E402
from bioner.training import align  # noqa: E402
from bioner.training.align import IGNORE, encode  # noqa: E402
from bioner.training.modeling import build_tiny, load_tokenizer, resolve_backbone  # noqa: E402

L9 = SEED_TYPES.scheme("gold+silver").label2id

SPLITS = ("train", "validation", "test_bc5cdr", "silver")


def per_sentence_loop(tokens: list[list[str]], tags: list[list[str]], label2id: dict[str, int], tok,
                      max_length: int) -> list[dict]:
    """The obvious baseline: one tokenizer call per sentence, first sub-token alignment from word_ids()."""
    out = []
    for words, seq in zip(tokens, tags, strict=True):
        enc = tok(words, is_split_into_words=True, truncation=True, max_length=max_length)
        labels, prev = [], None
        for w in enc.word_ids():
            labels.append(IGNORE if w is None or w == prev else label2id[seq[w]])
            prev = w
        out.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels})
    return out


def batched_no_memo(tokens: list[list[str]], tags: list[list[str]], label2id: dict[str, int], tok,
                    max_length: int) -> Dataset:
    """datasets.map with one batched tokenizer call per 1,000 sentences (encode's reference path)."""
    ds = Dataset.from_dict({"tokens": tokens, "label_ids": [[label2id[t] for t in s] for s in tags]})
    return ds.map(align._encode_batch_plain, batched=True, batch_size=1000, remove_columns=["label_ids"],
                  fn_kwargs={"tokenizer": tok, "max_length": max_length}, new_fingerprint=uuid.uuid4().hex)


def best_of(n: int, fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def load(data_dir: Path) -> tuple[list[list[str]], list[list[str]]]:
    tokens, tags = [], []
    for key in SPLITS:
        c = load_corpus(data_dir / DATA_FILES[key], FIELD_FULL)
        tokens += c.tokens
        tags += c.tags
    return tokens, tags


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="real,sample", help="comma list: real (../shared/data) and/or sample")
    ap.add_argument("--backbones", default="tiny,minilm")
    ap.add_argument("--max_length", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3, help="runs of encode / batched path; best is reported")
    ap.add_argument("--max_load", type=float, default=1.5, help="wait until the 1-min load is below this")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    common.set_threads(int(os.environ["OMP_NUM_THREADS"]))
    info = common.print_machine()
    rows = []
    work = common.scratch_dir("bench_data_")
    for data in args.data.split(","):
        if data == "real":
            if not common.REAL_DATA.is_dir():
                print(f"# {common.REAL_DATA} not found: skipping the real corpus")
                continue
            data_dir = common.REAL_DATA
        else:
            data_dir = common.sample_data_dir(work / "sample")
        t0 = time.perf_counter()
        tokens, tags = load(data_dir)
        t_load = time.perf_counter() - t0
        n_words = sum(map(len, tokens))
        print(f"# {data}: {len(tokens):,} sentences, {n_words:,} words, {len(set(w for s in tokens for w in s)):,} "
              f"distinct; load_corpus x4 {t_load:.2f}s")
        for bb in args.backbones.split(","):
            if bb == "tiny":  # as `bioner train` builds it: WordPiece on gold train + silver, default size
                gold = load_corpus(data_dir / DATA_FILES["train"], FIELD_FULL).tokens
                silver = load_corpus(data_dir / DATA_FILES["silver"], FIELD_FULL).tokens
                path = build_tiny(gold + silver, work / f"tiny_{data}", TinySettings(), seed=42)
            else:
                path = resolve_backbone(bb)
            tok = load_tokenizer(path)
            l2i, ml = L9, args.max_length
            load_before = common.wait_for_quiet(args.max_load)
            t_enc, ds = best_of(args.repeat, lambda: encode(tokens, tags, l2i, tok, ml))  # noqa: B023
            t_plain, _ = best_of(args.repeat, lambda: batched_no_memo(tokens, tags, l2i, tok, ml))  # noqa: B023
            t_loop, ref = best_of(1, lambda: per_sentence_loop(tokens, tags, l2i, tok, ml))  # noqa: B023
            load_after = common.loadavg()
            # same features? (a word with no sub-token at all keeps its place as [UNK] in encode only)
            diff = sum(r["input_ids"] != a or r["labels"] != b
                       for r, a, b in zip(ref, ds["input_ids"], ds["labels"], strict=True))  # type: ignore[union-attr]
            row = {"data": data, "sentences": len(tokens), "tokenizer": bb, "load_corpus_s": round(t_load, 2),
                   "per_sentence_loop_s": round(t_loop, 2), "datasets_map_batched_s": round(t_plain, 2),
                   "encode_s": round(t_enc, 2), "speedup": round(t_loop / t_enc, 1),
                   "sub_tokens": int(sum(ds["length"])), "rows_differing": diff,
                   "load_before": load_before, "load_after": load_after}
            print(row, flush=True)
            rows.append(row)
    print()
    print(common.table(rows, ["data", "sentences", "tokenizer", "load_corpus_s", "per_sentence_loop_s",
                              "datasets_map_batched_s", "encode_s", "speedup", "rows_differing", "load_before",
                              "load_after"]))
    common.save_json(args.json, {"machine": info, "rows": rows})


if __name__ == "__main__":
    main()
