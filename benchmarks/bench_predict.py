"""Benchmark `bioner predict`'s tagging path against `transformers.pipeline("token-classification")`.

Same checkpoint, same sentences: ours tags the pre-tokenized words (bioner.inference.tag_words +
bioner.prediction.extract_spans); the pipeline (aggregation_strategy="first") gets each sentence as text, its
tokens joined by single spaces, and its character offsets are mapped back to token indices. The script checks
that both produce the same spans (type, start_token, end_token; scores within 1e-3) and prints sentences/s of
both, the ratio and the machine. Model loading is outside the timings; each timing is the best of --repeat runs
after a warm-up (the machine may be shared).

    OMP_NUM_THREADS=1 python benchmarks/bench_predict.py --checkpoint scratch/predict_demo/models/best_model \\
        --data_dir scratch/predict_demo/data/raw [--input more.jsonl] [--json out.json]

Exit status 1 if the spans differ.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import pipeline  # noqa: E402

from bioner.corpus import load_corpus  # noqa: E402
from bioner.inference import tag_words  # noqa: E402
from bioner.labels import FIELD_FULL, TEST_SETS  # noqa: E402
from bioner.modeling import load_checkpoint  # noqa: E402
from bioner.prediction import extract_spans, read_records  # noqa: E402

Span = tuple[str, int, int]


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"), "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__,
            "device": "cuda:" + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}


def load_sentences(data_dir: Path | None, extra: Path | None) -> list[list[str]]:
    sents: list[list[str]] = []
    if data_dir is not None:
        for spec in TEST_SETS.values():
            sents += load_corpus(data_dir / spec.path, FIELD_FULL).tokens
    if extra is not None:
        sents += [r.tokens for r in read_records(extra, "jsonl") if r.tokens]
    return sents


def ours(sents: list[list[str]], tok: Any, model: Any, batch_size: int, device: str) -> list[list[dict]]:
    return [extract_spans(s, p.labels, p.scores)
            for s, p in zip(sents, tag_words(sents, tok, model, batch_size=batch_size, device=device), strict=True)]


def pipeline_spans(pipe: Any, sents: list[list[str]], batch_size: int) -> list[list[dict]]:
    """Pipeline entities with char offsets mapped back to token indices (None where they do not align)."""
    texts = [" ".join(s) for s in sents]
    out = []
    for words, ents in zip(sents, pipe(texts, batch_size=batch_size), strict=True):
        starts, pos = [], 0
        for w in words:
            starts.append(pos)
            pos += len(w) + 1
        spans = []
        for e in ents:
            i = bisect.bisect_left(starts, e["start"])
            j = bisect.bisect_right(starts, e["end"] - 1) - 1
            aligned = i < len(starts) and starts[i] == e["start"] and starts[j] + len(words[j]) == e["end"]
            spans.append({"type": e["entity_group"], "start_token": i if aligned else None,
                          "end_token": j if aligned else None, "score": float(e["score"])})
        out.append(spans)
    return out


def compare(a: list[list[dict]], b: list[list[dict]], tol: float = 1e-3) -> tuple[int, int, list[str]]:
    """(sentences that agree, spans in a, first differences)."""
    same, diffs = 0, []

    def key(spans: list[dict]) -> list[Span]:
        return [(s["type"], s["start_token"], s["end_token"]) for s in spans]

    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        ok = key(x) == key(y) and all(abs(s["score"] - t["score"]) <= tol for s, t in zip(x, y, strict=True))
        same += ok
        if not ok and len(diffs) < 5:
            diffs.append(f"sentence {i}: ours {key(x)} pipeline {key(y)}")
    return same, sum(len(x) for x in a), diffs


def timed(fn: Any, repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data_dir", type=Path, default=Path("data/raw"),
                    help="corpus root: its two test files are the sentences (Hub layout)")
    ap.add_argument("--input", type=Path, help="an extra JSONL file with 'tokens' (added to the sentences)")
    ap.add_argument("--no_test_sets", action="store_true", help="use only --input")
    ap.add_argument("--batch_size", type=int, default=64, help="ours, and the batched pipeline run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)

    sents = load_sentences(None if args.no_test_sets else args.data_dir, args.input)
    if not sents:
        ap.error("no sentences")
    tok, model = load_checkpoint(args.checkpoint)
    model.to(args.device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy="first",
                        device=torch.device(args.device))
    n, n_tok = len(sents), sum(map(len, sents))
    print(f"{n} sentences, {n_tok} tokens, checkpoint {args.checkpoint}")
    warm = sents[: min(64, n)]
    ours(warm, tok, model, args.batch_size, args.device)
    pipeline_spans(pipe, warm, 1)

    res: dict[str, Any] = {"machine": machine(), "sentences": n, "tokens": n_tok, "checkpoint": args.checkpoint,
                           "batch_size": args.batch_size, "repeat": args.repeat}
    t_ours, med_ours, spans_ours = timed(lambda: ours(sents, tok, model, args.batch_size, args.device), args.repeat)
    res["ours"] = {"seconds": t_ours, "median_seconds": med_ours, "sentences_per_s": n / t_ours}
    ok = True
    for name, bs in (("pipeline", 1), ("pipeline_batched", args.batch_size)):
        t, med, spans_pipe = timed(lambda bs=bs: pipeline_spans(pipe, sents, bs), args.repeat)
        same, n_spans, diffs = compare(spans_ours, spans_pipe)
        res[name] = {"batch_size": bs, "seconds": t, "median_seconds": med, "sentences_per_s": n / t,
                     "speedup_of_ours": t / t_ours, "sentences_with_same_spans": same, "spans_ours": n_spans,
                     "spans_pipeline": sum(len(x) for x in spans_pipe)}
        ok &= same == n
        for d in diffs:
            print("  DIFF", d)

    m = res["machine"]
    print(f"machine: {m['cpu']}, {m['logical_cores']} logical cores, torch threads {m['torch_threads']} "
          f"(OMP_NUM_THREADS={m['OMP_NUM_THREADS']}), torch {m['torch']}, transformers {m['transformers']}, "
          f"device {m['device']}")
    print(f"{'':<28}{'sentences/s':>12}{'ours x':>8}  same spans")
    print(f"{'ours (bioner predict path)':<28}{res['ours']['sentences_per_s']:>12.1f}{1.0:>8.2f}")
    for name in ("pipeline", "pipeline_batched"):
        r = res[name]
        label = f"pipeline, batch_size={r['batch_size']}"
        print(f"{label:<28}{r['sentences_per_s']:>12.1f}{r['speedup_of_ours']:>8.2f}  "
              f"{r['sentences_with_same_spans']}/{n} sentences ({r['spans_pipeline']} vs {r['spans_ours']} spans)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    if not ok:
        print("spans differ", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
