"""The study queued as DVC experiments: the seed configurations (bioner.settings.configs) x seeds, and the
ratio-study strategy x silver ratios x seeds.

Queueing is a thin layer over `dvc exp run --queue -S ...` (DVC's own queue runs them: `dvc queue start -j N`);
it writes no scheduler of its own. The ratio-study configuration at ratio `full` is also the `full` point of the
ratio study, so it is not queued twice.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..settings.configs import CONFIGS, PER_BACKBONE, RATIO_STUDY_STRATEGY
from ..settings.sections import RATIOS


def dvc_command() -> str:
    """`dvc` on PATH, else the one installed beside this Python (a venv's bin/, used without activating it)."""
    if shutil.which("dvc"):
        return "dvc"
    beside = Path(sys.executable).parent / "dvc"
    return str(beside) if beside.is_file() else "dvc"


@dataclass(frozen=True)
class GridPoint:
    name: str
    overrides: dict[str, str]

    def command(self, extra: list[str]) -> list[str]:
        cmd = [dvc_command(), "exp", "run", "--queue", "-n", self.name]
        for k, v in {**self.overrides}.items():
            cmd += ["-S", f"{k}={v}"]
        for item in extra:
            cmd += ["-S", item]
        return cmd


def study_points(seeds: list[int], study: str = "all", backbone: str | None = None,
                 single_source_backbones: list[str] | None = None, ratios: tuple[str, ...] = ("1", "2", "4"),
                 prefix: str = "") -> list[GridPoint]:
    """The experiments of the study.

    backbone: replaces the seed's backbone of configs 4-6 (and of 1-3 unless single_source_backbones is given);
    single_source_backbones: the backbones compared by the single-source configs (e.g. tiny, minilm on a CPU,
    the CPU analogue of the seed's bert-base / biobert / pubmedbert comparison).
    """
    pts: list[GridPoint] = []
    if study in ("all", "configs"):
        for name, (strategy, seed_backbone) in CONFIGS.items():
            cfg_no = name.split("_")[1]
            if strategy in PER_BACKBONE and single_source_backbones:
                if name != next(n for n, (s, _) in CONFIGS.items() if s == strategy):
                    continue  # one row per backbone, not one copy per seed configuration of the strategy
                variants = [(f"ss-{b}", b) for b in single_source_backbones]
            else:
                variants = [(f"cfg{cfg_no}", backbone or seed_backbone)]
            for tag, bb in variants:
                for seed in seeds:
                    pts.append(GridPoint(f"{prefix}{tag}-s{seed}",
                                         {"strategy": strategy, "backbone": bb, "seed": str(seed)}))
    if study in ("all", "ratios"):
        bb = backbone or next(b for s, b in CONFIGS.values() if s == RATIO_STUDY_STRATEGY)
        for r in ratios:
            if r not in RATIOS:
                raise ValueError(f"unknown ratio {r!r}; allowed: {RATIOS}")
            if r == "full" and study == "all":
                continue  # = config 5
            for seed in seeds:
                pts.append(GridPoint(f"{prefix}ratio{r}-s{seed}", {"strategy": RATIO_STUDY_STRATEGY, "backbone": bb,
                                                                    "silver.ratio": r, "seed": str(seed)}))
    return pts


def queue(points: list[GridPoint], extra: list[str], repo: str | Path = ".", dry_run: bool = False) -> list[str]:
    """Queue each point with `dvc exp run --queue`; return the commands."""
    cmds = []
    for p in points:
        cmd = p.command(extra)
        cmds.append(shlex.join(cmd))
        if not dry_run:
            proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"{shlex.join(cmd)} failed: {proc.stderr.strip()}")
    return cmds


def start(jobs: int, repo: str | Path = ".", poll_s: float = 3.0, grace_s: float = 60.0) -> None:
    """Run the queue with `jobs` workers (`dvc queue start -j N`), wait until it is empty, stop the workers.

    DVC's workers otherwise stay up, idle, for minutes after the last experiment (`dvc queue status` keeps
    listing them); `dvc queue stop` lets them finish what they run (nothing, by then) and exit. Workers that
    exit while experiments are still queued are started again (see `wait`).
    """
    cmd = [dvc_command(), "queue", "start", "-j", str(jobs)]
    subprocess.run(cmd, cwd=repo, check=True)
    try:
        wait(repo, poll_s, restart=lambda: subprocess.run(cmd, cwd=repo, check=False), workers=jobs,
             grace_s=grace_s)
    finally:  # also on Ctrl-C: the queued experiments stay queued, `dvc queue start` resumes them
        subprocess.run([dvc_command(), "queue", "stop"], cwd=repo, check=False)


_WORKERS = re.compile(r"Worker status: (\d+) active, (\d+) idle")


def wait(repo: str | Path = ".", poll_s: float = 3.0, restart: Callable[[], object] | None = None,
         workers: int = 1, grace_s: float = 60.0) -> None:
    """Block until `dvc queue status` shows no queued or running experiment.

    With `restart`: called when experiments are queued and fewer than `workers` DVC workers are alive. DVC's
    workers can exit early: a `dvc queue stop` sent while no worker was up stays in DVC's broker and shuts down
    the next worker of that name after one experiment, and two workers reading one message of DVC's file-system
    broker at once can kill one of them (kombu: JSONDecodeError, "Unrecoverable error"); each finishes the
    experiment it runs, the rest stay queued. A worker counts as alive when DVC lists it or runs an experiment
    (its worker status can read "0 active" while experiments run), and none is judged missing within `grace_s`
    of the last start (workers take seconds to register): otherwise `-j 2` could run four experiments at once.
    """
    import time

    last_start = time.monotonic()
    while True:
        out = subprocess.run([dvc_command(), "queue", "status"], cwd=repo, capture_output=True, text=True).stdout
        rows = [ln.split() for ln in out.splitlines()[1:]]
        states = [r[-1] for r in rows if r]
        if not set(states) & {"Queued", "Running"}:
            return
        listed = _WORKERS.search(out)
        alive = max(sum(map(int, listed.groups())) if listed else workers, states.count("Running"))
        settled = time.monotonic() - last_start >= grace_s
        if restart is not None and "Queued" in states and alive < workers and settled:
            print(f"experiments are queued but only {alive} of {workers} DVC workers are alive: starting the "
                  "workers again", flush=True)
            restart()
            last_start = time.monotonic()
        time.sleep(poll_s)
