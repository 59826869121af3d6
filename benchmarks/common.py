"""Shared helpers for the benchmark scripts: machine description, load-average gate, peak RSS, data paths.

Import this module before torch (it sets OMP_NUM_THREADS from `--threads`-style defaults only if unset):

    from common import machine, wait_for_quiet, ...

Benchmarks are scripts, not timed tests: each prints its measured figures side by side, the ratio, the machine
and the load average under which it ran. On a shared machine a busy neighbour makes timings meaningless (torch
with 2 threads was measured ~50x slower when another process was busy), so `wait_for_quiet` waits until the
1-minute load average drops below a threshold before each measurement and every result carries the load.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

REPO = Path(__file__).resolve().parents[1]
#: The real corpus (Hub layout), read in place, never copied: $BIONER_REAL_DATA or ../shared/data.
REAL_DATA = Path(os.environ.get("BIONER_REAL_DATA", REPO.parent / "shared" / "data"))


def scratch_dir(prefix: str) -> Path:
    """A temp directory for this run, removed when the script exits (also after an error)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def loadavg() -> tuple[float, float, float]:
    a, b, c = os.getloadavg()
    return round(a, 2), round(b, 2), round(c, 2)


def wait_for_quiet(max_load: float = 1.5, timeout_s: float = 1200, interval_s: float = 60) -> tuple:
    """Block until the 1-minute load average is <= max_load (or timeout); return the load average then.

    Prints what it waits for. After the timeout it proceeds and says so: the caller records the load with the
    result, so a figure taken under load is labelled as such.
    """
    t0 = time.time()
    while (load := loadavg())[0] > max_load:
        if time.time() - t0 > timeout_s:
            print(f"# load {load} still > {max_load} after {timeout_s:.0f}s: measuring anyway (figures are "
                  "under load)", file=sys.stderr, flush=True)
            return load
        print(f"# load {load} > {max_load}: waiting {interval_s:.0f}s", file=sys.stderr, flush=True)
        time.sleep(interval_s)
    return load


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """CPU model, cores, threads, library versions and GPU (if any)."""
    import datasets
    import tokenizers
    import torch
    import transformers

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {"cpu": cpu_model(), "logical_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
            "TOKENIZERS_PARALLELISM": os.environ.get("TOKENIZERS_PARALLELISM", "unset"),
            "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "datasets": datasets.__version__,
            "tokenizers": tokenizers.__version__, "gpu": gpu}


def print_machine() -> dict[str, Any]:
    m = machine()
    print("# machine: " + ", ".join(f"{k}={v}" for k, v in m.items()), flush=True)
    return m


def set_threads(n: int) -> None:
    """Pin torch's intra-op threads (OMP_NUM_THREADS is read at import; this covers torch.set_num_threads)."""
    import torch

    torch.set_num_threads(n)


def peak_rss_of(cmd: list[str], env: dict[str, str] | None = None, cwd: str | Path | None = None,
                log: Path | None = None) -> dict[str, Any]:
    """Run `cmd`; return its exit code, wall seconds and peak RSS (MiB, the child and its waited-for children)."""
    t0 = time.perf_counter()
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        if log:
            out.close()
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": proc.returncode, "wall_s": round(wall, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def self_peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    """Markdown table of `rows` restricted to `cols`."""
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def save_json(path: str | Path | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"# wrote {path}")


def sample_data_dir(root: str | Path) -> Path:
    """The synthetic sample corpus (default sizes) in the Hub layout under root/raw (written once)."""
    from bioner.data.sample import write_sample_corpus
    from bioner.settings.labels import DATA_FILES

    d = Path(root) / "raw"
    if not all((d / rel).is_file() for rel in DATA_FILES.values()):
        write_sample_corpus(d, seed=0)
    return d
