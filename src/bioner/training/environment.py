"""The environment an experiment ran in, recorded beside its metrics (docs/reproducibility.md).

Three parts:
- `numerics(...)`: what decides the numbers a training produces — the versions of the numerical packages,
  Python, the torch threads actually used, the CPU (model and the SIMD level torch dispatches to) or GPU, and
  the precision. The train stage records it in the config snapshot; `env_hash` is a short hash of it.
- `lock_state(...)`: the sha256 of requirements.lock and the installed packages that differ from it (also
  recorded by the train stage).
- `record(...)`: both, plus the content hashes DVC computed for data/ (read from dvc.lock). The aggregate
  stage writes it as metrics/environment.json and puts `env_hash` into metrics.json, so `dvc exp show` lists
  it and `bioner report` can tell when averaged runs come from different environments.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

#: packages whose versions decide a run's numbers (kernels, tokenisation, initialisation, data order)
NUMERIC_PACKAGES = ("torch", "transformers", "tokenizers", "numpy", "datasets", "accelerate", "safetensors")
LOCK_FILE = "requirements.lock"
DVC_LOCK = "dvc.lock"
#: the metrics.json key of the short environment hash
ENV_HASH_KEY = "env_hash"
ENV_HASH_CHARS = 12
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux; platform's description elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def precision_name(knobs: dict[str, Any]) -> str:
    """'bf16' | 'fp16' | 'fp32' from the Trainer's precision flags (training.runtime.device_knobs)."""
    return "bf16" if knobs.get("bf16") else "fp16" if knobs.get("fp16") else "fp32"


def numerics(threads: int, precision: str, tf32: bool | None = None) -> dict[str, Any]:
    """What decides this process's numbers; `threads` = torch.get_num_threads() during training."""
    import torch

    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in NUMERIC_PACKAGES},
        "torch_threads": int(threads),
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "cuda": torch.version.cuda if cuda else None,
        "precision": precision,
        "tf32": bool(tf32) if cuda else None,
    }


def env_hash(numerics_record: dict[str, Any]) -> str:
    """Short, stable hash of a `numerics` record (key order does not matter)."""
    blob = json.dumps(numerics_record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:ENV_HASH_CHARS]


def lock_pins(lock: Path) -> dict[str, str]:
    """name -> version of every `name==version` line of a pip requirements lock (names normalised)."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            pins[_normal(m.group(1))] = m.group(2)
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_state(lock: Path) -> dict[str, Any]:
    """The lock file's sha256 and the locked packages installed at another version (or not at all)."""
    if not lock.is_file():
        return {"file": str(lock), "sha256": None, "deviations": None}
    deviations = {}
    for name, pinned in sorted(lock_pins(lock).items()):
        installed = _version(name)
        if installed != pinned:
            deviations[name] = {"locked": pinned, "installed": installed}
    return {"file": str(lock), "sha256": hashlib.sha256(lock.read_bytes()).hexdigest(), "deviations": deviations}


def data_hashes(dvc_lock: Path) -> dict[str, Any]:
    """The content hashes DVC recorded in dvc.lock for the stage outputs under data/ (raw, labelled, silver)."""
    out: dict[str, Any] = {"source": str(dvc_lock), "md5": {}}
    try:
        lock = yaml.safe_load(dvc_lock.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        out["source"] = None
        return out
    for stage in (lock.get("stages") or {}).values():
        for o in (stage or {}).get("outs") or []:
            if str(o.get("path", "")).startswith("data/") and o.get("md5"):
                out["md5"][o["path"]] = o["md5"]
    out["md5"] = dict(sorted(out["md5"].items()))
    return out


def record(numerics_record: dict[str, Any] | None, lock: dict[str, Any] | None,
           dvc_lock: str | Path = DVC_LOCK) -> dict[str, Any]:
    """metrics/environment.json: env_hash, the numerics and lock state the train stage recorded (None: not
    recorded), and the data hashes of `dvc_lock`."""
    return {
        ENV_HASH_KEY: env_hash(numerics_record) if numerics_record else None,
        "numerics": numerics_record,
        "lock": lock,
        "data": data_hashes(Path(dvc_lock)),
        "platform": platform.platform(),
    }


NOT_RECORDED = "not recorded"


def runs_by_env(runs: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """env_hash (or NOT_RECORDED) -> names of the runs with it, from (name, metrics.json) pairs."""
    out: dict[str, list[str]] = {}
    for name, metrics in runs:
        out.setdefault(str(metrics.get(ENV_HASH_KEY) or NOT_RECORDED), []).append(name)
    return dict(sorted(out.items()))
