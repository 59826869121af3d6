"""Pipeline overhead: `dvc exp run` vs running the stages' commands directly.

Works in a throw-away copy of the repository (the tracked and untracked-but-not-ignored files of this checkout,
`git init` + one commit in a temp dir), so the checkout's own DVC state, experiments and caches are untouched.
With the default params (synthetic sample, `tiny` backbone) it measures:

1. the first `dvc repro` (every stage; context);
2. a no-op `dvc exp run` (nothing changed: every stage skipped; target < 5 s);
3. a seed-only change: `dvc exp run -S seed=N` (re-runs validate, train, evaluate, aggregate) vs the same four
   stages' commands from dvc.yaml run by hand with `seed: M` written into params.yaml. DVC and direct runs alternate
   (--pairs), each with a new seed, so neither side reuses the other's Trainer checkpoints. Two overheads, as a
   share of the direct `bioner train` (target < 10%):
   - paired: DVC wall - direct wall (honest but noisy: the training itself varies by several seconds run to run
     on a shared machine);
   - in-run: DVC wall - the time its own `bioner` commands took inside that same run, recorded by a `bioner`
     shim first on PATH (for both sides) that appends each command's start/end to a file: what DVC itself adds.

    OMP_NUM_THREADS=1 python benchmarks/bench_pipeline.py [--pairs 2] [--keep] [--json scratch/bench/pipeline.json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,I001

import yaml  # noqa: E402

BIN = Path(sys.executable).parent  # the venv's bin: bioner, dvc


def sh(cmd: str | list[str], cwd: Path, env: dict[str, str], check: bool = True) -> float:
    """Run, return wall seconds; on failure print the output tail and stop."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, shell=isinstance(cmd, str), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if check and p.returncode:
        sys.exit(f"command failed ({p.returncode}): {cmd}\n{(p.stdout + p.stderr)[-3000:]}")
    return wall


def copy_repo(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=common.REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = common.REPO / rel
        if src.is_file():  # deleted-but-tracked files are skipped
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def stage_cmds(repo: Path, stages: tuple[str, ...]) -> list[tuple[str, str]]:
    spec = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    out = []
    for name in stages:
        cmd = spec[name]["cmd"]
        out += [(name, c) for c in (cmd if isinstance(cmd, list) else [cmd])]
    return out


SHIM = """#!/bin/sh
start=$(date +%s.%N)
"{real}" "$@"
rc=$?
echo "$1 $start $(date +%s.%N)" >> "$BENCH_TIMES"
exit $rc
"""


def command_seconds(times: Path) -> float:
    """Sum of the wall times the `bioner` shim recorded (and clears the file)."""
    total = sum(float(end) - float(start) for _, start, end in
                (ln.split() for ln in times.read_text().splitlines() if ln.strip())) if times.exists() else 0.0
    times.unlink(missing_ok=True)
    return total


def set_seed_param(repo: Path, seed: int) -> None:
    p = repo / "params.yaml"
    lines = p.read_text().splitlines(keepends=True)
    p.write_text("".join(f"seed: {seed}\n" if ln.startswith("seed:") else ln for ln in lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=2, help="(dvc, direct) seed-change pairs")
    ap.add_argument("--noop_runs", type=int, default=3)
    ap.add_argument("--max_load", type=float, default=1.5)
    ap.add_argument("--keep", action="store_true", help="keep the temp repository")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    info = common.print_machine()
    info["dvc"] = subprocess.run([str(BIN / "dvc"), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"# dvc {info['dvc']}")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ["OMP_NUM_THREADS"],
           "TOKENIZERS_PARALLELISM": "false", "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    env.pop("VIRTUAL_ENV", None)
    tmp = common.scratch_dir("bench_pipeline_")
    shim, times = tmp / "shim", tmp / "times.txt"
    shim.mkdir()
    (shim / "bioner").write_text(SHIM.format(real=BIN / "bioner"))
    (shim / "bioner").chmod(0o755)
    env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
    env["BENCH_TIMES"] = str(times)
    repo = tmp / "repo"
    repo.mkdir()
    copy_repo(repo)
    sh("git init -q && git add -A && git commit -qm snapshot", repo, env)
    print(f"# temp repository: {repo}")
    res: dict[str, Any] = {"machine": info, "repo": str(repo)}

    common.wait_for_quiet(args.max_load)
    res["first_repro_s"] = round(sh("dvc repro -q", repo, env), 2)
    sh("git add -A && git commit -qm 'first run'", repo, env)
    print(f"first dvc repro (all stages): {res['first_repro_s']} s", flush=True)

    noop = []
    for _ in range(args.noop_runs):
        load = common.wait_for_quiet(args.max_load)
        noop.append(round(sh("dvc exp run -q", repo, env), 2))
        print(f"no-op dvc exp run: {noop[-1]} s (load {load})", flush=True)
    res["noop_exp_run_s"] = noop
    res["noop_exp_run_median_s"] = statistics.median(noop)
    res["noop_status_s"] = round(sh("dvc status -q", repo, env, check=False), 2)

    pairs = []
    cmds = stage_cmds(repo, ("validate", "train", "evaluate", "aggregate"))
    for i in range(args.pairs):
        seed_dvc, seed_direct = 1000 + 2 * i, 1001 + 2 * i
        load_dvc = common.wait_for_quiet(args.max_load)
        command_seconds(times)
        t_dvc = sh(f"dvc exp run -q -S seed={seed_dvc}", repo, env)
        t_dvc_cmds = command_seconds(times)
        sh("git checkout -q -- . && git clean -qfd -e .work", repo, env, check=False)  # back to the baseline
        set_seed_param(repo, seed_direct)
        load_direct = common.wait_for_quiet(args.max_load)
        per = {}
        for name, cmd in cmds:
            per[name] = per.get(name, 0.0) + sh(cmd, repo, env)
        sh("git checkout -q -- .", repo, env, check=False)
        command_seconds(times)
        t_direct = sum(per.values())
        row = {"dvc_exp_run_s": round(t_dvc, 2), "direct_s": round(t_direct, 2),
               "direct_train_s": round(per["train"], 2), "direct_evaluate_s": round(per["evaluate"], 2),
               "direct_aggregate_s": round(per["aggregate"], 2), "overhead_s": round(t_dvc - t_direct, 2),
               "overhead_%_of_train": round(100 * (t_dvc - t_direct) / per["train"], 1),
               "dvc_commands_s": round(t_dvc_cmds, 2), "in_run_overhead_s": round(t_dvc - t_dvc_cmds, 2),
               "in_run_overhead_%_of_train": round(100 * (t_dvc - t_dvc_cmds) / per["train"], 1),
               "load_dvc": load_dvc, "load_direct": load_direct}
        print(row, flush=True)
        pairs.append(row)
    res["seed_change"] = pairs
    med = {k: statistics.median(r[k] for r in pairs) for k in ("dvc_exp_run_s", "direct_s", "direct_train_s",
                                                                 "overhead_s", "in_run_overhead_s")}
    med["overhead_%_of_train"] = round(100 * med["overhead_s"] / med["direct_train_s"], 1)
    med["in_run_overhead_%_of_train"] = round(100 * med["in_run_overhead_s"] / med["direct_train_s"], 1)
    res["seed_change_median"] = med
    res["exp_show_s"] = round(sh("dvc exp show --no-pager > /dev/null", repo, env, check=False), 2)
    print()
    print(f"no-op `dvc exp run`: median {res['noop_exp_run_median_s']} s over {noop} (target < 5 s)")
    print(f"seed-only change: `dvc exp run -S seed=..` {med['dvc_exp_run_s']:.2f} s vs direct commands "
          f"{med['direct_s']:.2f} s (train {med['direct_train_s']:.2f} s): overhead {med['overhead_s']:.2f} s = "
          f"{med['overhead_%_of_train']}% of the training run (paired); DVC's own time in the run "
          f"{med['in_run_overhead_s']:.2f} s = {med['in_run_overhead_%_of_train']}% (target < 10%)")
    print(f"dvc exp show: {res['exp_show_s']} s; dvc status (clean): {res['noop_status_s']} s")
    common.save_json(args.json, res)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
