"""Peak memory (RSS) and wall time of `bioner train` and `bioner predict`, each run as its own process.

Rows (real corpus from $BIONER_REAL_DATA, default ../shared/data, read in place):
- floor: `python -c "import torch, transformers, datasets"` (what any run pays first);
- train tiny, joint_uniform on BC5CDR train + the full silver corpus (41k sentences) for --tiny_epochs epochs
  (the length-grouped sampler puts the longest batch first, and the epoch ends with a validation pass, so a
  fraction of an epoch already reaches the peak);
- train MiniLM single_source (BC5CDR train) for --minilm_epochs epochs (a few steps) + validation;
- predict: `bioner predict` with the tiny checkpoint on the ~50k sentences (BC5CDR train/validation/test +
  silver), written as a tokens-only JSONL into the temp dir; optionally the MiniLM checkpoint on --minilm_predict
  sentences.
Peak RSS is the child's ru_maxrss (os.wait4). Each run waits for a quiet machine first.

    OMP_NUM_THREADS=1 python benchmarks/bench_memory.py [--json scratch/bench/memory.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,I001

from bioner.settings.labels import DATA_FILES  # noqa: E402  (no torch: labels is plain Python)

BIN = Path(sys.executable).parent
SPLITS = tuple(DATA_FILES[k] for k in ("train", "validation", "test_bc5cdr", "silver"))


def write_predict_input(dest: Path, limit: int | None = None) -> int:
    n = 0
    with open(dest, "w", encoding="utf-8") as out:
        for rel in SPLITS:
            lines = (common.REAL_DATA / rel).read_text(encoding="utf-8").split("\n")
            for toks in (json.loads(line)["tokens"] for line in lines if line.strip()):
                if toks:
                    out.write(json.dumps({"tokens": toks}, ensure_ascii=False) + "\n")
                    n += 1
                    if limit and n >= limit:
                        return n
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny_epochs", type=float, default=0.1)
    ap.add_argument("--minilm_epochs", type=float, default=0.02)
    ap.add_argument("--minilm_predict", type=int, default=0, help="sentences for a MiniLM predict row (0: skip)")
    ap.add_argument("--rows", default="floor,train_tiny,train_minilm,predict_tiny")
    ap.add_argument("--max_load", type=float, default=1.5)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if not common.REAL_DATA.is_dir():
        sys.exit(f"{common.REAL_DATA} not found (set BIONER_REAL_DATA)")
    info = common.print_machine()
    tmp = common.scratch_dir("bench_memory_")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HF_HUB_OFFLINE": "1",
           "OMP_NUM_THREADS": os.environ["OMP_NUM_THREADS"], "TOKENIZERS_PARALLELISM": "false"}
    bioner = str(BIN / "bioner")
    rows: list[dict[str, Any]] = []
    wanted = args.rows.split(",")

    def measure(name: str, cmd: list[str], **extra: Any) -> dict[str, Any]:
        load = common.wait_for_quiet(args.max_load)
        # cwd = tmp: no params.yaml there, so `bioner train` starts from the Settings defaults + the -s given
        r = common.peak_rss_of(cmd, env=env, cwd=tmp, log=tmp / f"{name}.log")
        if r["rc"]:
            print((tmp / f"{name}.log").read_text()[-3000:], file=sys.stderr)
            sys.exit(f"{name} failed (rc {r['rc']})")
        row = {"row": name, **r, **extra, "load_before": load, "load_after": common.loadavg()}
        print(row, flush=True)
        rows.append(row)
        return row

    if "floor" in wanted:
        measure("floor: import torch, transformers, datasets",
                [sys.executable, "-c", "import torch, transformers, datasets"])
    real = str(common.REAL_DATA)
    if "train_tiny" in wanted or "predict_tiny" in wanted:
        subprocess.run([bioner, "silver", "--data_dir", real, "--out", str(tmp / "silver")], env=env, check=True,
                       capture_output=True)
        measure("train tiny joint_uniform (gold + full silver)",
                [bioner, "train", "--data_dir", real, "--silver_dir", str(tmp / "silver"),
                 "--output_dir", str(tmp / "tiny"), "--work_dir", str(tmp / "work"),
                 "-s", "strategy=joint_uniform", "-s", "backbone=tiny", "-s", f"train.epochs={args.tiny_epochs}"],
                epochs=args.tiny_epochs)
    if "train_minilm" in wanted or args.minilm_predict:
        measure("train minilm single_source",
                [bioner, "train", "--data_dir", real, "--silver_dir", "none",
                 "--output_dir", str(tmp / "minilm"), "--work_dir", str(tmp / "work"),
                 "-s", "strategy=single_source", "-s", "backbone=minilm", "-s", f"train.epochs={args.minilm_epochs}"],
                epochs=args.minilm_epochs)
    if "predict_tiny" in wanted:
        n = write_predict_input(tmp / "predict_in.jsonl")
        r = measure(f"predict tiny, {n:,} sentences",
                    [bioner, "predict", "--checkpoint", str(tmp / "tiny" / "best_model"),
                     "--input", str(tmp / "predict_in.jsonl"), "--output", str(tmp / "predict_out.jsonl")],
                    sentences=n)
        r["sentences_per_s"] = round(n / r["wall_s"], 1)
    if args.minilm_predict:
        n = write_predict_input(tmp / "predict_in_minilm.jsonl", args.minilm_predict)
        r = measure(f"predict minilm, {n:,} sentences",
                    [bioner, "predict", "--checkpoint", str(tmp / "minilm" / "best_model"),
                     "--input", str(tmp / "predict_in_minilm.jsonl"), "--output", str(tmp / "predict_out2.jsonl")],
                    sentences=n)
        r["sentences_per_s"] = round(n / r["wall_s"], 1)
    print()
    print(common.table(rows, ["row", "peak_rss_mib", "wall_s", "sentences_per_s", "load_before", "load_after"]))
    common.save_json(args.json, {"machine": info, "rows": rows})
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
