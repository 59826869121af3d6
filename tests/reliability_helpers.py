"""Helpers of the reliability tests (test_reliability_*.py): the CLI in-process and its one-line errors, a
sandbox with a complete params.yaml, file snapshots."""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from bioner.cli.pipeline import main
from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES

SRC = Path(__file__).resolve().parents[1] / "src" / "bioner"
TINY_SETS = ["-s", "tiny.vocab_size=500", "-s", "tiny.hidden_size=32", "-s", "tiny.num_layers=1",
             "-s", "tiny.num_heads=2", "-s", "tiny.intermediate_size=64", "-s", "train.max_length=64"]


# ------------------------------------------------------------------------------------------------- helpers
def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def one_error_line(err: str, cmd: str) -> str:
    """stderr is exactly one line, `bioner <cmd>: error: ...`; return it."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bioner {cmd}: error: "), err
    return lines[0]


def last_error_line(err: str, cmd: str) -> str:
    """A subprocess's stderr: log lines (warnings about the data), then exactly one error line; return it."""
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith(f"bioner {cmd}: error: "), err
    assert all(re.match(r"\d\d:\d\d:\d\d (INFO|WARNING) ", line) for line in lines[:-1]), err
    return lines[-1]


def files_under(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under root (directories implied)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def temp_debris(root: Path) -> list[str]:
    """Leftovers of an interrupted atomic write: .x.tmp files, .x.tmpPID / .x.old / .x.fetch-* dirs."""
    return [str(p.relative_to(root)) for p in root.rglob("*")
            if ".tmp" in p.name or p.name.endswith(".old") or ".fetch-" in p.name]


def write_full_params(path: Path, drop: tuple[str, ...] = ()) -> Path:
    """params.yaml with every schema key (the defaults), minus the dotted keys in `drop`."""
    params = S.Settings().model_dump(mode="json")
    for key in drop:
        *parents, leaf = key.split(".")
        node = params
        for p in parents:
            node = node[p]
        del node[leaf]
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


def copy_data(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (n for n in ast.walk(tree) if isinstance(n, ast.Call))


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _evaluate_argv(sandbox: Path, model: Path, raw: Path) -> list[str | Path]:
    return ["evaluate", "--checkpoint", model, "--test_set", "test_bc5cdr", "--data_dir", raw,
            "--output", sandbox / "out" / "eval_test_bc5cdr.json"]


def _predict_argv(sandbox: Path, model: Path, raw: Path) -> list[str | Path]:
    return ["predict", "--checkpoint", model, "--input", raw / DATA_FILES["test_bc5cdr"],
            "--output", sandbox / "out" / "predictions.jsonl"]


def _count_training_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy: count optimizer steps (one training_step per step at gradient_accumulation_steps=1)."""
    import bioner.training.trainer as T

    calls: list[int] = []
    orig = T.WeightedTokenTrainer.training_step

    def spy(self, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(1)
        return orig(self, *a, **k)

    monkeypatch.setattr(T.WeightedTokenTrainer, "training_step", spy)
    return calls


SAFETENSORS_FULL_DISK = ('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space '
                         'left on device" })')  # what safetensors raises on a full disk


def _fail_safetensors(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Writing model weights into a path containing `where` fails as safetensors reports a full disk."""
    import transformers.modeling_utils
    from safetensors import SafetensorError

    real = transformers.modeling_utils.safe_save_file

    def save(tensors: object, filename: str, *a: object, **k: object) -> None:
        if where in str(filename):
            raise SafetensorError(SAFETENSORS_FULL_DISK)
        real(tensors, filename, *a, **k)

    monkeypatch.setattr(transformers.modeling_utils, "safe_save_file", save)


def _unshare_available() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


#: command -> (file it reads that gets corrupted, argv builder(sandbox, raw, trained) , output paths)
COMMANDS: dict[str, tuple[str, Callable[[Path, Path, dict], list[str | Path]]]] = {
    "train_single_source": ("train", lambda d, raw, t: [
        "train", "--strategy", "single_source", "--backbone", t["backbone"], "--epochs", "1", "--data_dir", raw,
        "--output_dir", d / "models", "--work_dir", d / "work", "--live_dir", d / "live",
        "--silver_dir", d / "silver"]),
    "train_joint": ("silver", lambda d, raw, t: [
        "train", "--strategy", "joint_uniform", "--backbone", t["backbone"], "--epochs", "1", "--data_dir", raw,
        "--output_dir", d / "models", "--work_dir", d / "work", "--live_dir", d / "live",
        "--silver_dir", d / "silver"]),
    "evaluate": ("test_bc5cdr", lambda d, raw, t: [
        "evaluate", "--checkpoint", t["model"], "--test_set", "test_bc5cdr", "--data_dir", raw,
        "--output", d / "metrics" / "eval_test_bc5cdr.json"]),
    "silver": ("silver", lambda d, raw, t: ["silver", "--data_dir", raw, "--out", d / "silver_out"]),
}


def _stage_argv(command: str, sandbox: Path, trained: dict, evals: Path) -> list[str | Path]:
    """A command line of `command` whose outputs all go under sandbox/out. For train, out/ starts as a copy of
    the trained run's outputs (the previous version); the other commands' previous version is a first run."""
    out = sandbox / "out"
    if command == "evaluate":
        return _evaluate_argv(sandbox, trained["model"], trained["raw"])
    if command == "predict":
        return _predict_argv(sandbox, trained["model"], trained["raw"])
    if command == "aggregate":
        shutil.copytree(evals, out / "metrics")
        return ["aggregate", "--model_dir", trained["models"], "--metrics_dir", out / "metrics",
                "--plots_dir", out / "plots"]
    if command == "silver":  # a directory inside out/: the set replaces it whole (a mount point cannot be)
        return ["silver", "--data_dir", trained["raw"], "--out", out / "silver"]
    if command == "train":
        shutil.copytree(trained["models"], out)
        return ["train", "--strategy", "single_source", "--backbone", trained["backbone"], "--epochs", "1",
                "--seed", "3", "--data_dir", trained["raw"], "--output_dir", out, "--work_dir", sandbox / "work",
                "--silver_dir", sandbox / "none"]
    return ["fetch", "--source", "sample", "--dest", out / "raw"]


def sigkill_when(proc: subprocess.Popen, ready: Callable[[], bool], never: str, log: Path | None = None) -> None:
    """SIGKILL `proc` as soon as `ready()` holds (polled for up to 120 s); `never` (or the tail of `log`) names
    what did not happen. The process is never left running."""
    try:
        deadline = time.time() + 120
        while not ready():
            assert proc.poll() is None, log.read_text()[-3000:] if log else never
            assert time.time() < deadline, never
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
