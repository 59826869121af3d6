"""How many torch CPU threads `train.cpu_threads: auto` uses: the cores no other process is busy on.

torch's own default is one OpenMP thread per core. Every parallel region of a step then waits at a barrier for
all its threads; when another process runs on one of those cores, the thread there gets the core only in the
scheduler's turns (milliseconds) while the region's work is microseconds, so each step waits on it again and
again, far slower than with one thread (measured in docs/benchmarks.md s.8, `benchmarks/bench_threads.py`).
So `auto` counts the cores that are idle just before training and uses that many threads (at least one): all
cores on a quiet machine, fewer next to other work.
An explicit OMP_NUM_THREADS is respected (torchrun sets it to 1 per worker; so does `make demo`).
"""

from __future__ import annotations

import math
import os
import time

#: seconds over which the other processes' CPU use is sampled (once, before training)
SAMPLE_S = 0.5
#: a core counts as free when less than this share of it is busy (background noise, the sampling itself)
BUSY_TOLERANCE = 0.25


def _cpu_times(cpus: set[int]) -> tuple[int, int] | None:
    """(idle, total) jiffies summed over `cpus`, from /proc/stat; None where there is no /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    idle = total = 0
    for line in lines:
        name, *vals = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        nums = [int(v) for v in vals[:8]]  # user nice system idle iowait irq softirq steal (guest is in user)
        idle += nums[3] + nums[4]
        total += sum(nums)
    return (idle, total) if total else None


def usable_cpus() -> set[int]:
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return set(range(os.cpu_count() or 1))


def busy_cores(cpus: set[int], sample_s: float = SAMPLE_S) -> float | None:
    """Cores' worth of CPU time other processes used during `sample_s` (this process sleeps meanwhile)."""
    a = _cpu_times(cpus)
    time.sleep(sample_s)
    b = _cpu_times(cpus)
    if a is None or b is None or b[1] <= a[1]:
        return None
    return len(cpus) * (1 - (b[0] - a[0]) / (b[1] - a[1]))


def auto_threads() -> tuple[int, str]:
    """(threads for `cpu_threads: auto`, why): OMP_NUM_THREADS if set, else the cores that are idle now."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env), f"OMP_NUM_THREADS={env}"
    cpus = usable_cpus()
    busy = busy_cores(cpus)
    if busy is None:
        return len(cpus), f"{len(cpus)} cores (other processes' load unknown here)"
    free = max(1, min(len(cpus), math.floor(len(cpus) - busy + BUSY_TOLERANCE)))
    return free, f"{len(cpus)} cores, {busy:.1f} busy with other processes"
