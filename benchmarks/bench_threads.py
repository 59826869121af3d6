"""torch CPU threads for training: torch's default (every core) vs 1 thread vs `train.cpu_threads: auto`.

The sample training of `params.yaml` (synthetic sample, `tiny` backbone, joint_uniform, full silver) is run as
`bioner train` in a fresh process per measurement, with
- 0 or 1 (--busy) other CPU-bound processes running (`python -c "while True: pass"`, started before the run
  and killed after it), and
- `-s train.cpu_threads=<all cores>` (torch's default, the old `auto`), `=1`, and `=auto` (bioner.training.threads: the
  cores no other process is busy on when training starts), with OMP_NUM_THREADS unset in the child.
The figure is the Trainer's wall time (config_snapshot.yaml run.phase1.wall_s: imports and data preparation
excluded). It prints, per background load, each setting's time and its ratio to the best of the two fixed
settings (the issue's target for the default: within 1.3x of the better one in both cases).

Every measurement records the load average before it: on a machine shared with other jobs the "0 other
processes" rows are not quiet (say so when quoting them). Rerun it on a quiet machine for clean figures:

    python benchmarks/bench_threads.py [--epochs 1] [--repeats 1] [--busy 0,1] [--json scratch/bench/threads.json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,I001

import yaml  # noqa: E402

SPIN = "while True: pass"


def train_once(raw: Path, out: Path, threads: str, epochs: float) -> dict[str, Any]:
    """One `bioner train` of the sample configuration; its training wall time and the threads it used."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}  # as a plain shell would run it
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(common.REPO / "src"))
    cmd = [sys.executable, "-m", "bioner.cli", "train", "--params", str(common.REPO / "params.yaml"),
           "--data_dir", str(raw), "--silver_dir", str(out / "no-silver-dir"), "--output_dir", str(out / "models"),
           "--work_dir", str(out / "work"), "--epochs", str(epochs), "-s", f"train.cpu_threads={threads}"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    run = yaml.safe_load((out / "models" / "config_snapshot.yaml").read_text())["run"]
    return {"wall_s": float(run["phase1"]["wall_s"]), "steps": int(run["phase1"]["steps"]),
            "threads_used": run.get("cpu_threads")}


def measure(raw: Path, tmp: Path, threads: str, busy: int, epochs: float) -> dict[str, Any]:
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(busy)]
    try:
        time.sleep(1.0 if busy else 0)  # the spinners are running before training starts (and auto samples)
        load = common.loadavg()
        out = Path(tempfile.mkdtemp(dir=tmp))
        res = train_once(raw, out, threads, epochs)
        shutil.rmtree(out, ignore_errors=True)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    return {"busy": busy, "setting": threads, **res, "load_before": load[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=float, default=1.0, help="training epochs per run (default: 1)")
    ap.add_argument("--repeats", type=int, default=1, help="runs per cell; the median is reported (default: 1)")
    ap.add_argument("--busy", default="0,1", help="numbers of other CPU-bound processes (default: 0,1)")
    ap.add_argument("--max_load", type=float, default=1.5, help="wait for this 1-min load average (default: 1.5)")
    ap.add_argument("--wait_s", type=float, default=1200, help="longest wait for it, then measure anyway")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    info = common.print_machine()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    settings = [str(cores), "1", "auto"]
    tmp = common.scratch_dir("bench_threads-")
    raw = common.sample_data_dir(tmp)
    rows: list[dict[str, Any]] = []
    try:
        for busy in (int(b) for b in args.busy.split(",")):
            for _ in range(args.repeats):
                for threads in settings:  # interleaved, so a change in the machine's load hits every setting
                    common.wait_for_quiet(args.max_load, timeout_s=args.wait_s)
                    row = measure(raw, tmp, threads, busy, args.epochs)
                    print(row, flush=True)
                    rows.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = []
    for busy in sorted({r["busy"] for r in rows}):
        cell = {t: [r for r in rows if r["busy"] == busy and r["setting"] == t] for t in settings}
        med = {t: statistics.median(r["wall_s"] for r in rs) for t, rs in cell.items()}
        best = min(med[str(cores)], med["1"])
        summary.append({
            "other busy processes": busy, f"torch default ({cores} threads) s": med[str(cores)],
            "1 thread s": med["1"], "auto s": med["auto"],
            "auto threads": "/".join(str(r["threads_used"]) for r in cell["auto"]),
            "default / best": round(med[str(cores)] / best, 2), "auto / best": round(med["auto"] / best, 2),
            "load before (1-min avg)": "/".join(f"{r['load_before']:.1f}" for rs in cell.values() for r in rs)})
    print()
    print(f"# sample training, {rows[0]['steps']} steps per run, median of {args.repeats}; "
          f"load averages as measured ({cores} cores)")
    print(common.table(summary, list(summary[0])))
    common.save_json(args.json, {"machine": info, "epochs": args.epochs, "rows": rows, "summary": summary})


if __name__ == "__main__":
    main()
