"""`train.cpu_threads: auto` (bioner.training.threads): the cores other processes leave idle, OMP_NUM_THREADS first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bioner.training import threads


@pytest.mark.parametrize(("cores", "busy", "expected"), [
    (2, 0.05, 2), (2, 0.3, 1), (2, 1.0, 1), (2, 2.0, 1), (4, 1.0, 3), (8, 0.1, 8), (1, 0.0, 1)])
def test_auto_uses_the_idle_cores(cores: int, busy: float, expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cpus", lambda: set(range(cores)))
    monkeypatch.setattr(threads, "busy_cores", lambda cpus: busy)
    n, why = threads.auto_threads()
    assert n == expected and f"{cores} cores" in why


def test_omp_num_threads_wins_and_unknown_load_takes_every_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.auto_threads() == (3, "OMP_NUM_THREADS=3")
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(threads, "usable_cpus", lambda: {0, 1})
    monkeypatch.setattr(threads, "busy_cores", lambda cpus: None)
    assert threads.auto_threads()[0] == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat")
def test_busy_cores_sees_a_busy_process() -> None:
    """A CPU-bound child on one of the usable cores shows up as about one busy core."""
    cpus = threads.usable_cpus()
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = threads.busy_cores(cpus, sample_s=1.0)
    finally:
        spin.kill()
        spin.wait()
    assert busy is not None and 0.7 <= busy <= len(cpus)
