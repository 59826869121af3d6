"""Compare a re-run experiment with the committed one: metrics to the last digit, and the environment records.

`scripts/check_reproduction.sh` re-runs the committed default experiment in a fresh clone and calls this:

    python -m bioner.study.reproduction --committed DIR --new DIR [--hardware-may-differ]

Each DIR holds that run's metrics.json, environment.json and dvc.lock. Exit 0: every metric identical
(timings excepted) and the data byte-identical (the md5s DVC recorded); 1: something
differs, printed with the environment fields that differ (the likely cause); 2: a file is missing or
unreadable. `--hardware-may-differ` (CI: its machine's CPU model is not ours to choose) passes a run whose
metrics differ when the only numerics fields that differ are the hardware's (CPU, GPU), and says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..training.environment import ENV_HASH_KEY

#: metrics that measure time, not results: never equal between two runs
TIMING_KEYS = ("train_wall_s",)
#: DVC-tracked contents compared by the md5 DVC recorded in each run's dvc.lock: the data. Not models/best_model:
#: its bioner.json names the training work dir, keyed by a fingerprint of all the package's code, so its hash
#: changes with any code edit; the weights are covered by the metrics, compared to the last digit.
CONTENT_PATHS = ("data/raw", "data/labelled", "data/silver")
#: numerics fields that describe the machine rather than the installation
HARDWARE_FIELDS = ("numerics.cpu", "numerics.cpu_capability", "numerics.gpu", "numerics.cuda")


class ReproductionInputError(RuntimeError):
    """A record to compare is missing or not JSON."""


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReproductionInputError(f"{path}: not found") from None
    except json.JSONDecodeError as err:
        raise ReproductionInputError(f"{path}: not valid JSON: {err}") from None


def metric_diffs(committed: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, committed, new) for every metric that differs (a missing key counts), timings and env_hash aside."""
    skip = set(TIMING_KEYS) | {ENV_HASH_KEY}
    keys = [k for k in committed if k not in skip] + [k for k in new if k not in committed and k not in skip]
    return [(k, committed.get(k), new.get(k)) for k in keys if committed.get(k) != new.get(k)]


def content_hashes(dvc_lock: Path) -> dict[str, str]:
    """path -> md5 of CONTENT_PATHS as a dvc.lock records them (an out of one stage, a dep of the next)."""
    import yaml

    try:
        lock = yaml.safe_load(dvc_lock.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ReproductionInputError(f"{dvc_lock}: not found") from None
    except yaml.YAMLError as err:
        raise ReproductionInputError(f"{dvc_lock}: not valid YAML: {err}") from None
    out: dict[str, str] = {}
    for stage in (lock.get("stages") or {}).values():
        for entry in [*((stage or {}).get("deps") or []), *((stage or {}).get("outs") or [])]:
            if entry.get("path") in CONTENT_PATHS and entry.get("md5"):
                out[entry["path"]] = entry["md5"]
    return out


def _flat(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out or {prefix.rstrip("."): {}}
    return {prefix.rstrip("."): obj}


def env_diffs(committed: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(dotted field, committed, new) for every field of two environment records that differs."""
    a, b = _flat(committed), _flat(new)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def check(committed_dir: Path, new_dir: Path, hardware_may_differ: bool = False) -> tuple[bool, list[str]]:
    """(passed, report lines) for a re-run in `new_dir` against the committed run in `committed_dir`."""
    metrics = metric_diffs(_load(committed_dir / "metrics.json"), _load(new_dir / "metrics.json"))
    old_lock, new_lock = committed_dir / "dvc.lock", new_dir / "dvc.lock"
    contents = None
    if old_lock.exists() and new_lock.exists():
        a, b = content_hashes(old_lock), content_hashes(new_lock)
        contents = [(p, a.get(p), b.get(p)) for p in CONTENT_PATHS if a.get(p) != b.get(p)]
    env_old = committed_dir / "environment.json"
    envs = env_diffs(_load(env_old), _load(new_dir / "environment.json")) if env_old.exists() else None
    lines = []
    if not metrics and not contents:
        lines.append("REPRODUCED: every metric identical to the committed one (timings aside)")
    elif not metrics:
        lines.append("NOT REPRODUCED: every metric identical, but DVC-tracked contents differ")
    else:
        lines.append(f"NOT REPRODUCED: {len(metrics)} metric(s) differ from the committed ones:")
        lines += [f"  {k}: committed {a!r}, now {b!r}" for k, a, b in metrics]
    lines += _section(contents, "contents: no dvc.lock to compare",
                      "contents that differ (md5 in dvc.lock, committed -> now):",
                      "contents: byte-identical " + ", ".join(CONTENT_PATHS) + " (md5 in dvc.lock)", "{} -> {}")
    lines += _section(envs, "environment: the committed run has no environment.json (recorded since the lock)",
                      "environment fields that differ (committed -> now):", "environment: identical record",
                      "{!r} -> {!r}")
    passed = not metrics and not contents
    if not passed and hardware_may_differ and envs:
        numerics = [k for k, _, _ in envs if k.startswith("numerics.")]
        if numerics and all(k in HARDWARE_FIELDS for k in numerics):
            lines.append("PASSED with --hardware-may-differ: only the hardware differs (" + ", ".join(numerics)
                         + "); the numbers are not comparable to the last digit across CPUs/GPUs")
            passed = True
    return passed, lines


def _section(diffs: list[tuple[str, object, object]] | None, missing: str, header: str, same: str,
             change: str) -> list[str]:
    """Report lines for one comparison: nothing to compare, the differences, or identical."""
    if diffs is None:
        return [missing]
    if not diffs:
        return [same]
    return [header] + [f"  {k}: " + change.format(a, b) for k, a, b in diffs]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bioner.study.reproduction", description=__doc__.splitlines()[0])
    p.add_argument("--committed", required=True, type=Path, help="dir with the committed metrics/environment")
    p.add_argument("--new", required=True, type=Path, help="dir with the re-run's metrics/environment")
    p.add_argument("--hardware-may-differ", action="store_true",
                   help="pass when only the CPU/GPU fields of the environment differ")
    args = p.parse_args(argv)
    try:
        passed, lines = check(args.committed, args.new, args.hardware_may_differ)
    except ReproductionInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
