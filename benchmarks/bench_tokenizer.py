"""Raw-text tokenizers compared (`bioner predict --tokenizer bio | punct`): span F1 on detokenised gold text.

The corpora are pre-tokenised (every punctuation character a token). This script turns each gold sentence into
the text a user would give `bioner predict` -- no space around `-` and `/`, none before `, . ; : ) ] %`, none
after `( [` -- keeps each gold span's character offsets, tags the texts with each raw-text tokenizer, and
scores exact (type, start_char, end_char) matches. It also scores the original tokens (what `bioner evaluate`
sees) as the ceiling, and counts gold spans that end right before a `-word` suffix ("Cisplatin-induced").

    python benchmarks/bench_tokenizer.py --checkpoint models/best_model [--data FILE.jsonl] [--json out.json]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

import common  # noqa: I001  (sets thread/offline env before torch is imported)

from bioner.data.corpus import load_corpus
from bioner.data.textsplit import TOKENIZERS
from bioner.settings.labels import FIELD_GOLD
from bioner.tagging.tagger import Tagger

NO_SPACE_BEFORE = {",", ".", ";", ":", ")", "]", "%", "-", "/"}
NO_SPACE_AFTER = {"(", "[", "-", "/"}

Spans = set[tuple[int, str, int, int]]  # (sentence, type, start_char, end_char)


def detokenise(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The sentence as text, and each token's [start, end) in it."""
    text, offsets = "", []
    for i, tok in enumerate(tokens):
        if i and tok not in NO_SPACE_BEFORE and tokens[i - 1] not in NO_SPACE_AFTER:
            text += " "
        offsets.append((len(text), len(text) + len(tok)))
        text += tok
    return text, offsets


def gold_spans(tags: list[list[str]], offsets: list[list[tuple[int, int]]]) -> Spans:
    out: Spans = set()
    for s, (seq, offs) in enumerate(zip(tags, offsets, strict=True)):
        start, typ = -1, ""
        for i, tag in enumerate([*seq, "O"]):
            if start >= 0 and tag != f"I-{typ}":
                out.add((s, typ, offs[start][0], offs[i - 1][1]))
                start = -1
            if tag.startswith("B-"):
                start, typ = i, tag[2:]
    return out


def prf(gold: Spans, pred: Spans) -> dict[str, Any]:
    tp = len(gold & pred)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def score(gold: Spans, pred: Spans) -> dict[str, Any]:
    row = prf(gold, pred)
    for t in sorted({g[1] for g in gold}):
        row[f"f1_{t}"] = prf({g for g in gold if g[1] == t}, {p for p in pred if p[1] == t})["f1"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", default=str(common.REAL_DATA / "bc5cdr" / "bc5cdr_test.jsonl"))
    ap.add_argument("--field", default=FIELD_GOLD, help="gold label field (default: %(default)s)")
    ap.add_argument("--batch_size", type=int, default=64)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    info = common.print_machine()
    tagger = Tagger.load(args.checkpoint)
    corpus = load_corpus(Path(args.data), args.field)
    texts, offsets = zip(*(detokenise(t) for t in corpus.tokens), strict=True)
    gold = gold_spans(corpus.tags, list(offsets))
    types = {g[1] for g in gold}
    before_suffix = sum(1 for s, _, _, b in gold if texts[s][b:b + 1] == "-" and texts[s][b + 1:b + 2].isalpha())
    print(f"# {args.data}: {len(texts)} sentences, {len(gold)} gold spans, {before_suffix} end right before a "
          f"-word suffix", flush=True)
    rows = []
    for name, inputs, rule in [("tokens (ceiling)", list(corpus.tokens), "bio"),
                               *[(f"text, --tokenizer {r}", list(texts), r) for r in TOKENIZERS]]:
        t0 = time.perf_counter()
        spans = tagger.predict(inputs, batch_size=args.batch_size, tokenizer=rule)
        wall = time.perf_counter() - t0
        if name.startswith("tokens"):  # token spans -> characters of the detokenised text
            pred = {(s, sp.type, offsets[s][sp.start_token][0], offsets[s][sp.end_token][1])
                    for s, ss in enumerate(spans) for sp in ss}
        else:
            pred = {(s, sp.type, sp.start_char, sp.end_char) for s, ss in enumerate(spans) for sp in ss}
        pred = {p for p in pred if p[1] in types}  # scored on the types the gold file annotates, as evaluate does
        missed = Counter(texts[s][b:b + 1] for s, _, _, b in gold - pred)
        row = {"input": name, **score(gold, pred), "wall_s": round(wall, 1),
               "missed_gold_before_hyphen": missed.get("-", 0)}
        print(row, flush=True)
        rows.append(row)
    print()
    print(common.table(rows, list(rows[0])))
    common.save_json(args.json, {"machine": info, "data": args.data, "checkpoint": args.checkpoint,
                                 "gold_spans": len(gold), "gold_before_suffix": before_suffix, "rows": rows})


if __name__ == "__main__":
    main()
