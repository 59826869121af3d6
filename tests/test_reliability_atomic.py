"""Reliability: atomic outputs: a failed write keeps the old output and leaves no temp file.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

import ast
import errno
import json
import os
from pathlib import Path

import pytest

from reliability_helpers import (
    SRC,
    _calls,
    _fail_safetensors,
    _kw,
    _stage_argv,
    files_under,
    one_error_line,
    run_cli,
    temp_debris,
)


def _fail_replace_onto(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Moving new content onto a path named `name` fails as on a full disk (other renames work, including
    putting a `.name.old` backup back)."""
    real = os.replace

    def replace(src: object, dst: object, *a: object, **k: object) -> None:
        if Path(str(dst)).name == name and not Path(str(src)).name.endswith(".old"):
            raise OSError(errno.ENOSPC, "No space left on device (simulated)", str(dst))
        real(src, dst, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)


def _fail_json_dump_midway(monkeypatch: pytest.MonkeyPatch) -> None:
    """json.dump writes half the document, then the disk is full."""

    def dump(obj: object, fh: object, **kwargs: object) -> None:
        text = json.dumps(obj, **kwargs)  # type: ignore[arg-type]
        fh.write(text[: len(text) // 2])  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, "No space left on device (simulated)")

    monkeypatch.setattr(json, "dump", dump)


def _atomic_cases() -> list[tuple[str, str, str]]:
    """(command, output file or dir that fails to be written, how it fails)."""
    return [
        ("evaluate", "eval_test_bc5cdr.json", "replace"),
        ("evaluate", "eval_test_bc5cdr.json", "json_dump"),
        ("evaluate", "eval_test_bc5cdr.json", "fsync"),
        ("predict", "predictions.jsonl", "replace"),
        ("predict", "predictions.jsonl", "fsync"),
        ("aggregate", "metrics.json", "replace"),
        ("aggregate", "metrics.json", "json_dump"),
        ("aggregate", "metrics.json", "fsync"),
        ("aggregate", "config_snapshot.yaml", "replace"),
        ("aggregate", "scaling_point.json", "replace"),
        ("silver", "silver_2.jsonl", "replace"),
        ("silver", "silver_1.jsonl", "fsync"),
        ("silver", "stats.json", "json_dump"),
        ("train", "config_snapshot.yaml", "replace"),
        ("train", "best_model", "replace"),
        ("train", "best_model", "fsync"),
        ("train", "best_model", "safetensors"),
        ("fetch", "raw", "replace"),
        ("fetch", "raw", "fsync"),
    ]


def _fail_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up under every atomically written file: its fsync fails as a full disk reports it."""

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device (simulated)")

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize(("command", "target", "how"), _atomic_cases())
def test_failed_write_keeps_old_output_and_leaves_no_temp(command: str, target: str, how: str, sandbox: Path,
                                                          trained: dict, evals: Path, small_sample_dir: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails mid-way (disk full) is one line naming the output (never the temp file) and the cause;
    the previous output stays byte-identical and no temp file is left."""
    out = sandbox / "out"
    argv = _stage_argv(command, sandbox, trained, evals)
    # the previous version of every output this command writes: run it once for real (train: copied above)
    if command != "train":
        assert run_cli(capsys, *argv)[0] == 0
    before = files_under(out)
    (target_path,) = [p for p in out.rglob(target)]
    assert target_path.exists()

    if how == "replace":
        _fail_replace_onto(monkeypatch, target)
    elif how == "fsync":
        _fail_fsync(monkeypatch)
    elif how == "safetensors":
        _fail_safetensors(monkeypatch, f".{target}.tmp")
    else:
        _fail_json_dump_midway(monkeypatch)
    rc, _, err = run_cli(capsys, *argv)

    assert rc == 2
    msg = one_error_line(err, command)
    cause = "No space left on device" + ("" if how == "safetensors" else " (simulated)")
    named = target_path.parent if command == "silver" else target_path  # silver replaces its set as one dir
    assert msg == (f"bioner {command}: error: {named}: cannot write it ({cause}); the previous version is "
                   "unchanged. Fix: free space on that filesystem (or write elsewhere) and run again")
    after = files_under(out)
    rel = str(target_path.relative_to(out))
    old = {k: v for k, v in before.items() if k == rel or k.startswith(f"{rel}/")}
    assert old == {k: v for k, v in after.items() if k == rel or k.startswith(f"{rel}/")}  # byte for byte
    assert set(after) == set(before)  # no file lost, none added (no temp file)
    assert not temp_debris(sandbox)


def test_every_write_in_src_goes_through_atomic() -> None:
    """Static check over src/bioner (except atomic.py): no open() for writing, Path.write_text/write_bytes,
    torch.save or savefig to a path; outputs go through bioner.io.atomic (temp file + rename)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "atomic.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        atomic_handles = {item.optional_vars.id for node in ast.walk(tree) if isinstance(node, ast.With)
                          for item in node.items if isinstance(item.optional_vars, ast.Name)
                          and isinstance(item.context_expr, ast.Call)
                          and getattr(item.context_expr.func, "id", "") == "atomic_open"}
        for call in _calls(tree):
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            where = f"{path.name}:{call.lineno}"
            if name == "open" and not isinstance(func, ast.Attribute) or name == "fdopen":
                mode = call.args[1] if len(call.args) > 1 else _kw(call, "mode")
                if isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax+"):
                    offenders.append(f"{where}: open(..., {mode.value!r})")
            elif name in ("write_text", "write_bytes"):
                offenders.append(f"{where}: .{name}()")
            elif name == "save" and getattr(func.value, "id", "") in ("torch", "np", "numpy"):
                offenders.append(f"{where}: {func.value.id}.save()")
            elif name == "savefig" and not (call.args and isinstance(call.args[0], ast.Name)
                                            and call.args[0].id in atomic_handles):
                offenders.append(f"{where}: savefig() not into an atomic_open handle")
    assert not offenders, offenders
