"""Benchmark `bioner predict`'s tagging path (bioner.Tagger): fp32 vs dynamic int8 vs bf16 vs `transformers.pipeline`
(and, with onnxruntime installed beside the environment, ONNX Runtime fp32 / int8: benchmarks/onnx_arm.py).

Same checkpoint, same sentences. Ours tags the pre-tokenized words (Tagger: fp32, `quantize="int8"` or
`precision="bf16"`, the last only on a CPU with native bf16); the
pipeline (aggregation_strategy="first", batch 1 as in its default use) gets each sentence as text, its tokens
joined by single spaces, and its character offsets are mapped back to token indices. Each (arm, threads) runs in
its own process (OMP_NUM_THREADS and torch threads set there; peak RSS is that process's), in `--rounds` rounds
that interleave the arms, so a neighbour's load hits every arm alike; the best round counts. Model loading is
outside the timings (each child warms up on 64 sentences first). The script checks that fp32 and the pipeline
give the same spans (type, start_token, end_token; scores within 1e-3), counts the sentences where each other arm
differs from fp32, and scores every arm but the pipeline on the full BC5CDR test set with the project's scoring path
(`bioner evaluate`'s, through the Tagger). It prints the load average with every figure: on a shared machine they
are lower bounds, comparable within one run only.

    python benchmarks/bench_predict.py --checkpoint scratch/minilm_ss/best_model --data_dir ../shared/data \
        --arms fp32,int8,pipeline --threads 1,2 --sentences 1000 --json scratch/bench/predict.json
    PYTHONPATH=/tmp/ort python benchmarks/bench_predict.py ... --arms fp32,int8,bf16,ort,ort_int8,pipeline

Exit status 1 if fp32 and the pipeline give different spans.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import json
import os
import platform
import random
import shutil
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

from bioner.data.corpus import load_corpus  # noqa: E402
from bioner.settings.labels import FIELD_FULL, TEST_SETS  # noqa: E402
from bioner.tagging.evaluation import evaluate  # noqa: E402
from bioner.tagging.inference import tag_words  # noqa: E402
from bioner.tagging.prediction import extract_spans, read_records  # noqa: E402
from bioner.tagging.tagger import Tagger  # noqa: E402
from bioner.training.modeling import load_checkpoint  # noqa: E402

Span = tuple[str, int, int]
#: fp32/int8/bf16: the Tagger (bioner predict's path); ort/ort_int8: ONNX Runtime behind it; pipeline: transformers
ARMS = ("fp32", "int8", "bf16", "ort", "ort_int8", "pipeline")


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


def pipeline_spans(pipe: Any, sents: list[list[str]], batch_size: int = 1) -> list[list[dict]]:
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


def sample_sentences(data_dir: Path, n: int | None, extra: Path | None = None) -> list[list[str]]:
    """`n` BC5CDR test sentences drawn with a fixed seed (all if n is None), plus an optional extra JSONL."""
    sents = load_corpus(data_dir / TEST_SETS["bc5cdr"].path, TEST_SETS["bc5cdr"].field).tokens
    if n is not None and n < len(sents):
        sents = [sents[i] for i in sorted(random.Random(0).sample(range(len(sents)), n))]
    if extra is not None:
        sents += [r.tokens for r in read_records(extra, "jsonl") if r.tokens]
    return sents


def child(args: argparse.Namespace) -> None:
    """One arm at one thread count, in this process: throughput, spans and (with --f1) BC5CDR test scores."""
    torch.set_num_threads(args.threads)
    sents = sample_sentences(args.data_dir, args.sentences, args.input)
    res: dict[str, Any] = {"arm": args.child, "threads": torch.get_num_threads(), "sentences": len(sents),
                           "load_before": os.getloadavg()[0]}
    if args.child == "pipeline":
        tok, model = load_checkpoint(args.checkpoint)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy="first",
                            device=torch.device("cpu"))
        run = functools.partial(pipeline_spans, pipe, batch_size=1)
    elif args.child in ("ort", "ort_int8"):
        from onnx_arm import ort_tagger

        tagger = ort_tagger(args.checkpoint, args.threads, int8=args.child == "ort_int8")
        run = functools.partial(ours_tagger, tagger, batch_size=args.batch_size)
    else:
        tagger = Tagger.load(args.checkpoint, device="cpu", quantize="int8" if args.child == "int8" else None,
                             precision="bf16" if args.child == "bf16" else "fp32")
        run = functools.partial(ours_tagger, tagger, batch_size=args.batch_size)
    run(sents[:64])  # warm-up
    best, med, spans = timed(lambda: run(sents), args.repeat)
    res.update(seconds=best, median_seconds=med, sentences_per_s=len(sents) / best, spans=spans,
               load_after=os.getloadavg()[0])
    if args.f1 and args.child != "pipeline":
        t0 = time.perf_counter()
        ev = evaluate(args.checkpoint, "bc5cdr", data_dir=args.data_dir, batch_size=args.batch_size,
                      load=lambda: tagger)
        res["bc5cdr"] = {"f1": ev["micro"]["f1"], "precision": ev["micro"]["precision"],
                         "recall": ev["micro"]["recall"], "sentences": ev["sentences"],
                         "seconds": time.perf_counter() - t0,
                         **{f"f1_{t}": row["f1"] for t, row in ev["per_entity"].items()}}
    Path(args.out).write_text(json.dumps(res) + "\n")


def ours_tagger(tagger: Tagger, sents: list[list[str]], batch_size: int) -> list[list[dict]]:
    return [[s.to_dict() for s in x] for x in tagger.stream(sents, batch_size=batch_size)]


def same_spans(a: list[list[dict]], b: list[list[dict]]) -> int:
    """Sentences whose spans agree on (type, start_token, end_token)."""
    def key(spans: list[dict]) -> list[tuple]:
        return [(s["type"], s["start_token"], s["end_token"]) for s in spans]
    return sum(key(x) == key(y) for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data_dir", type=Path, default=Path("data/raw"), help="corpus root (Hub layout)")
    ap.add_argument("--input", type=Path, help="an extra JSONL file with 'tokens' (added to the sentences)")
    ap.add_argument("--sentences", type=int, default=1000, help="BC5CDR test sentences timed (0: all)")
    ap.add_argument("--arms", default="fp32,int8,pipeline", help="comma list of " + " | ".join(ARMS))
    ap.add_argument("--threads", default="1,2", help="comma list of torch thread counts")
    ap.add_argument("--rounds", type=int, default=2, help="rounds over all arms (interleaved); best counts")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes per child")
    ap.add_argument("--batch_size", type=int, default=64, help="ours")
    ap.add_argument("--no_f1", action="store_true", help="skip the BC5CDR test F1 of fp32/int8")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--max_load", type=float, help="wait (up to 20 min) for a 1-minute load average below this "
                    "before each child (default: measure at once, under whatever load there is)")
    ap.add_argument("--child", choices=ARMS, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--f1", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.sentences = args.sentences or None
    if args.child:
        args.threads = int(args.threads)
        child(args)
        return 0

    from common import peak_rss_of, scratch_dir, wait_for_quiet

    arms, threads = args.arms.split(","), [int(t) for t in args.threads.split(",")]
    work = scratch_dir("bench_predict.")
    results: dict[tuple[str, int], list[dict]] = {}
    print(f"# machine: {json.dumps(machine())}; load average at start {os.getloadavg()}", flush=True)
    for rnd in range(args.rounds):
        for th in threads:
            for arm in arms if rnd % 2 == 0 else arms[::-1]:
                out = work / f"{arm}_{th}_{rnd}.json"
                cmd = [sys.executable, __file__, "--child", arm, "--threads", str(th), "--out", str(out),
                       "--checkpoint", args.checkpoint, "--data_dir", str(args.data_dir),
                       "--sentences", str(args.sentences or 0), "--repeat", str(args.repeat),
                       "--batch_size", str(args.batch_size)]
                if args.input:
                    cmd += ["--input", str(args.input)]
                if rnd == 0 and th == threads[0] and not args.no_f1:
                    cmd.append("--f1")
                env = {**os.environ, "OMP_NUM_THREADS": str(th), "MKL_NUM_THREADS": str(th)}
                if args.max_load is not None:
                    wait_for_quiet(args.max_load)
                meta = peak_rss_of(cmd, env=env, log=work / f"{arm}_{th}_{rnd}.log")
                if meta["rc"] != 0:
                    print((work / f"{arm}_{th}_{rnd}.log").read_text()[-3000:], file=sys.stderr)
                    return 2
                r = json.loads(out.read_text())
                r["peak_rss_mib"] = meta["peak_rss_mib"]
                results.setdefault((arm, th), []).append(r)
                print(f"# round {rnd} {arm:<8} threads {th}: {r['sentences_per_s']:8.1f} sentences/s, peak RSS "
                      f"{meta['peak_rss_mib']:.0f} MiB, load {r['load_before']:.2f}->{r['load_after']:.2f}",
                      flush=True)

    def best(arm: str, th: int) -> dict:
        return max(results[(arm, th)], key=lambda r: r["sentences_per_s"])

    ok = True
    rows = []
    first = {arm: results[(arm, threads[0])][0] for arm in arms}
    n = first[arms[0]]["sentences"]
    if "fp32" in first and "pipeline" in first:
        same, n_spans, diffs = compare(first["fp32"]["spans"], first["pipeline"]["spans"])
        print(f"fp32 vs pipeline: same spans on {same}/{n} sentences ({n_spans} spans)")
        for d in diffs:
            print("  DIFF", d)
        ok = same == n
    others = [a for a in arms if a not in ("fp32", "pipeline")] if "fp32" in first else []
    for arm in others:
        print(f"{arm} vs fp32: same spans on {same_spans(first[arm]['spans'], first['fp32']['spans'])}/{n} sentences")
    print(f"\n| arm | threads | sentences/s (best of {args.rounds}) | vs fp32 | vs pipeline | peak RSS MiB | "
          "BC5CDR test F1 (Chem / Dis) | load during |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for th in threads:
        for arm in arms:
            b = best(arm, th)
            row = {"arm": arm, "threads": th, "sentences_per_s": b["sentences_per_s"],
                   "peak_rss_mib": max(r["peak_rss_mib"] for r in results[(arm, th)]),
                   "loads": [(r["load_before"], r["load_after"]) for r in results[(arm, th)]]}
            for ref in ("fp32", "pipeline"):
                if ref in arms:
                    row[f"x_{ref}"] = b["sentences_per_s"] / best(ref, th)["sentences_per_s"]
            f1 = next((r["bc5cdr"] for r in results[(arm, th)] if "bc5cdr" in r), None)
            if f1:
                row["bc5cdr"] = f1
            rows.append(row)
            f1s = f"{f1['f1']:.4f} ({f1['f1_Chemical']:.4f} / {f1['f1_Disease']:.4f})" if f1 else ""
            load = ", ".join(f"{a:.1f}-{z:.1f}" for a, z in row["loads"])
            print(f"| {arm} | {th} | {b['sentences_per_s']:.1f} | {row.get('x_fp32', float('nan')):.2f}x | "
                  f"{row.get('x_pipeline', float('nan')):.2f}x | {row['peak_rss_mib']:.0f} | {f1s} | {load} |")
    if args.json:
        for rs in results.values():
            for r in rs:
                r.pop("spans", None)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine(), "sentences": n, "rows": rows,
                                         "runs": {f"{a}_{t}": rs for (a, t), rs in results.items()}},
                                        indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    if not ok:
        print("fp32 and pipeline spans differ", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
