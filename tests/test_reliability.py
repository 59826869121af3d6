"""Reliability matrix (issue 8): bad data, bad params, unreachable Hub, interrupted training, untrusted
checkpoints, atomic outputs.

Every case drives the real command line: `bioner.cli.pipeline.main([...])` in-process (stdout/stderr via capsys), or
`python -m bioner.cli` in a subprocess where an environment variable must be set before import (HF_ENDPOINT)
or a signal is needed (kill -9). Each asserts the exact outcome: exit code, the one-line message and what it
names, and the files left behind (none new on failure, no temp files, old outputs intact).
docs/reliability.md lists the matrix.
"""

from __future__ import annotations

import ast
import errno
import hashlib
import http.server
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from bioner.cli.pipeline import main
from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES
from bioner.settings.sections import TinySettings

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


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory holding a complete params.yaml (the CLI reads ./params.yaml)."""
    monkeypatch.chdir(tmp_path)
    write_full_params(tmp_path / "params.yaml")
    return tmp_path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, small_sample_dir: Path, tiny_backbone: Path) -> dict:
    """One real `bioner train` (single_source, 1 epoch) on a copy of the small sample whose train file holds an
    I- tag without B- and an empty sentence: the model for the evaluate/predict/pickle/atomic cases."""
    root = tmp_path_factory.mktemp("trained")
    raw = copy_data(small_sample_dir, root / "raw")
    train_file = raw / DATA_FILES["train"]
    lines = train_file.read_text(encoding="utf-8").splitlines(keepends=True)
    rec = json.loads(lines[0])
    first = next(i for i, t in enumerate(rec["decoded_tags"]) if t.startswith("B-"))
    for field in ("decoded_tags", "decoded_tags_pseudo_final"):
        rec[field][first] = "I-" + rec[field][first][2:]  # I-X without B-X: repaired to B-X and counted
    lines[0] = json.dumps(rec) + "\n"
    lines.insert(5, json.dumps({"tokens": [], "decoded_tags": [], "decoded_tags_pseudo_final": []}) + "\n")
    train_file.write_text("".join(lines), encoding="utf-8")
    write_full_params(root / "params.yaml")

    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda r: records.append(r.getMessage())  # type: ignore[method-assign]
    logging.getLogger("bioner").addHandler(handler)
    try:
        rc = main(["train", "--params", str(root / "params.yaml"), "--strategy", "single_source",
                   "--backbone", str(tiny_backbone), "--epochs", "1", "--data_dir", str(raw),
                   "--output_dir", str(root / "models"), "--work_dir", str(root / "work"),
                   "--silver_dir", str(root / "none")])
    finally:
        logging.getLogger("bioner").removeHandler(handler)
    assert rc == 0
    return {"root": root, "raw": raw, "models": root / "models", "model": root / "models" / "best_model",
            "log": "\n".join(records), "backbone": tiny_backbone}


# ================================================================================================ 1. data
GOOD = {"tokens": ["aspirin", "causes", "ulcers"], "decoded_tags": ["B-Chemical", "O", "B-Disease"],
        "decoded_tags_pseudo_final": ["B-Chemical", "O", "B-Disease"]}


def _rec(**fields: object) -> bytes:
    return json.dumps({**GOOD, **fields}).encode()


#: case -> (bad line inserted as line 3 | "EMPTY" | "MISSING", expected line in the message, phrase)
DATA_CASES: dict[str, tuple[bytes | str, int | None, str]] = {
    "malformed_json": (b'{"tokens": ["aspirin", "causes"', 3, "bad JSON"),
    "missing_tokens": (json.dumps({k: v for k, v in GOOD.items() if k != "tokens"}).encode(), 3,
                       "missing field 'tokens'"),
    "length_mismatch": (_rec(tokens=["aspirin", "causes"]), 3, "2 tokens but 3 tags in"),
    "unknown_label": (_rec(decoded_tags=["B-Protein", "O", "O"], decoded_tags_pseudo_final=["B-Protein", "O", "O"]),
                      3, "label(s) ['B-Protein'] not in the"),
    "nine_tag_label_in_5tag_run": (_rec(decoded_tags=["B-Gene", "O", "O"]), 3,
                                   "label(s) ['B-Gene'] not in the 5-label space of 'decoded_tags'"),
    "non_utf8_bytes": (b'{"tokens": ["caf\xe9"], "decoded_tags": ["O"], "decoded_tags_pseudo_final": ["O"]}', 3,
                       "not valid UTF-8"),
    "sentence_10k_tokens": (_rec(tokens=["x"] * 10_000, decoded_tags=["O"] * 10_000,
                                 decoded_tags_pseudo_final=["O"] * 10_000), 3,
                            "sentence of 10000 tokens (limit 5000)"),
    "empty_file": ("EMPTY", 1, "file is empty"),
    "missing_file": ("MISSING", None, "file not found"),
}

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


def _data_matrix() -> list[tuple[str, str]]:
    out = []
    for cmd in COMMANDS:
        for case in DATA_CASES:
            if case == "nine_tag_label_in_5tag_run" and cmd == "train_joint":
                continue  # a 9-tag run reads the 9-tag view, where B-Gene is valid
            out.append((cmd, case))
    return out


@pytest.mark.parametrize(("command", "case"), _data_matrix())
def test_bad_data_is_one_line_error_and_no_output(command: str, case: str, sandbox: Path, small_sample_dir: Path,
                                                  trained: dict, capsys: pytest.CaptureFixture[str]) -> None:
    raw = copy_data(small_sample_dir, sandbox / "raw")
    target_key, argv = COMMANDS[command]
    if case == "nine_tag_label_in_5tag_run" and command == "silver":
        target_key = "train"  # the silver stage reads the gold train file in the 5-tag view
    target = raw / DATA_FILES[target_key]
    bad, line, phrase = DATA_CASES[case]
    if bad == "EMPTY":
        target.write_bytes(b"")
    elif bad == "MISSING":
        target.unlink()
    else:
        lines = target.read_bytes().splitlines(keepends=True)
        lines.insert(2, bad + b"\n")
        target.write_bytes(b"".join(lines))
    before = files_under(sandbox)

    rc, _, err = run_cli(capsys, *argv(sandbox, raw, trained))

    assert rc == 2
    msg = one_error_line(err, argv(sandbox, raw, trained)[0])
    assert (f"{target}:{line}: " if line else f"{target}: ") in msg
    assert phrase in msg and "Fix: " in msg
    assert files_under(sandbox) == before  # nothing written: no model, metrics, subsets, temp files
    assert not temp_debris(sandbox)


@pytest.mark.parametrize("command", ["evaluate", "silver"])
def test_repairs_and_skips_are_counted_and_succeed(command: str, sandbox: Path, small_sample_dir: Path,
                                                   trained: dict, capsys: pytest.CaptureFixture[str],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    raw = copy_data(small_sample_dir, sandbox / "raw")
    target = raw / DATA_FILES["test_bc5cdr" if command == "evaluate" else "silver"]
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(1, _rec(decoded_tags=["I-Chemical", "O", "I-Disease"],
                         decoded_tags_pseudo_final=["I-Chemical", "O", "I-Disease"]).decode() + "\n")
    lines.insert(3, json.dumps({"tokens": [], "decoded_tags": [], "decoded_tags_pseudo_final": []}) + "\n")
    target.write_text("".join(lines), encoding="utf-8")
    caplog.set_level(logging.WARNING)

    rc, _, err = run_cli(capsys, *COMMANDS[command][1](sandbox, raw, trained))

    assert rc == 0, err
    assert f"{target}: repaired 2 invalid IOB2 tag(s) (I-X without B-X -> B-X)" in caplog.messages
    assert f"{target}: skipped 1 empty sentence(s)" in caplog.messages
    if command == "evaluate":
        res = json.loads((sandbox / "metrics" / "eval_test_bc5cdr.json").read_text())
        assert res["sentences"] == 41  # 40 + the repaired one; the empty one skipped
    else:
        stats = json.loads((sandbox / "silver_out" / "stats.json").read_text())
        assert stats["silver_sentences"] == 241
    assert not temp_debris(sandbox)


def test_train_repairs_and_skips_are_counted_and_succeed(trained: dict) -> None:
    train_file = trained["raw"] / DATA_FILES["train"]
    assert f"{train_file}: repaired 1 invalid IOB2 tag(s) (I-X without B-X -> B-X)" in trained["log"]
    assert f"{train_file}: skipped 1 empty sentence(s)" in trained["log"]
    assert (trained["model"] / "model.safetensors").is_file()


# ============================================================================================== 2. params
#: case -> (extra argv for `bioner train`, params keys to drop, phrases the one-line error must contain)
PARAM_CASES: dict[str, tuple[list[str], tuple[str, ...], list[str]]] = {
    "unknown_strategy": (["-s", "strategy=joint_magic"], (), [
        "strategy='joint_magic'", "not allowed", "'single_source'", "'joint_partial'"]),
    "unknown_backbone_alias": (["--backbone", "pubmedbert-xl"], (), [
        "backbone 'pubmedbert-xl'", "not an alias (bert-base, biobert, pubmedbert, tiny, minilm)",
        "HF_HUB_OFFLINE=1", "Offline alternatives: --backbone tiny", "--backbone minilm", "local model directory"]),
    "backbone_missing_local_path": (["--backbone", "./no/such/model"], (), [
        "backbone './no/such/model'", "not an alias", "not an existing local directory", "--backbone tiny"]),
    "backbone_alias_not_cached_offline": (["--backbone", "pubmedbert"], (), [
        "backbone 'pubmedbert' (Hub model 'microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext')",
        "HF_HUB_OFFLINE=1", "--backbone tiny"]),
    "ratio_larger_than_silver": (["--strategy", "joint_uniform", "-s", "silver.ratio=4"], (), [
        "silver.ratio='4'", "needs 480 silver sentences (4 x 120 gold)", "the silver corpus has 240",
        "allowed here: 1, 2, full"]),
    "ratio_not_a_ratio": (["-s", "silver.ratio=3"], (), [
        "silver.ratio='3'", "not allowed", "'1', '2', '4' or 'full'"]),
    "epochs_zero": (["--epochs", "0"], (), ["train.epochs=0.0", "Input should be greater than 0"]),
    "epochs_negative": (["-s", "train.epochs=-2"], (), ["train.epochs=-2", "greater than 0"]),
    "phase2_epochs_zero": (["-s", "train.phase2.epochs=0"], (), ["train.phase2.epochs=0", "greater than 0"]),
    "batch_size_zero": (["--batch_size", "0"], (), ["train.batch_size=0", "greater than or equal to 1"]),
    "batch_size_negative": (["-s", "train.batch_size=-16"], (), ["train.batch_size=-16", "greater than or equal to 1"]),
    "learning_rate_zero": (["--learning_rate", "0"], (), ["train.learning_rate=0.0", "must be > 0 or 'auto'"]),
    "learning_rate_negative": (["-s", "train.learning_rate=-0.001"], (), [
        "train.learning_rate=-0.001", "must be > 0 or 'auto'"]),
    "silver_weight_zero": (["-s", "silver.weight=0"], (), [
        "silver.weight=0", "greater than 0; allowed: > 0.0 and <= 1.0"]),
    "silver_weight_above_one": (["-s", "silver.weight=1.5"], (), [
        "silver.weight=1.5", "less than or equal to 1; allowed: > 0.0 and <= 1.0"]),
    "cpu_threads_zero": (["-s", "train.cpu_threads=0"], (), [
        "train.cpu_threads=0", "allowed: 'auto' or an integer >= 1"]),
    "cpu_threads_negative": (["-s", "train.cpu_threads=-4"], (), [
        "train.cpu_threads=-4", "allowed: 'auto' or an integer >= 1"]),
    "type_name_not_a_label_fragment": (["-s", "sources.silver=[Virus, Cell-Line]"], (), [
        "sources.silver=['Virus', 'Cell-Line']", "invalid type name(s) ['Cell-Line']",
        "a letter followed by letters or digits"]),
    "silver_type_clashes_with_gold": (["-s", "sources.silver=[Virus, disease]"], (), [
        "sources.silver=['Virus', 'disease']", "['disease'] already gold type(s) (sources.gold = ['Chemical', "]),
    "type_listed_twice": (["-s", "sources.silver=[Gene, Virus, Gene]"], (), [
        "sources.silver=['Gene', 'Virus', 'Gene']", "type 'Gene' is listed twice"]),
    "unknown_key_typo": (["-s", "train.epoch=2"], (), [
        "train.epoch=2", "unknown key", "allowed keys here: epochs, batch_size"]),
    "missing_key_train_epochs": ([], ("train.epochs",), [
        "params.yaml: missing key(s) train.epochs;", "Add e.g. train.epochs: 3.0"]),
    "missing_key_seed": ([], ("seed",), ["params.yaml: missing key(s) seed;", "seed: 42"]),
    "missing_section_tiny": ([], ("tiny",), [
        "missing key(s) tiny.vocab_size, tiny.hidden_size, tiny.num_layers, tiny.num_heads, tiny.intermediate_size",
        f"(and {len(TinySettings.model_fields) - 3} more)"]),  # the message lists the first 3 defaults
}


@pytest.mark.parametrize("case", list(PARAM_CASES))
def test_bad_params_fail_before_training(case: str, sandbox: Path, small_sample_dir: Path,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import bioner.training.modeling
    import bioner.training.run

    extra, drop, phrases = PARAM_CASES[case]
    if drop:
        write_full_params(sandbox / "params.yaml", drop=drop)
    raw = copy_data(small_sample_dir, sandbox / "raw")

    def started(*_a: object, **_k: object) -> None:
        raise AssertionError("training started despite invalid settings")

    for name in ("build_tiny", "load_tokenizer", "load_for_training"):
        monkeypatch.setattr(bioner.training.modeling, name, started)
    if case != "ratio_larger_than_silver":  # the only check that needs the corpus sizes
        monkeypatch.setattr(bioner.training.run, "load_training_corpora", started)
    before = files_under(sandbox)

    rc, _, err = run_cli(capsys, "train", "--data_dir", raw, "--output_dir", sandbox / "models",
                         "--silver_dir", sandbox / "silver", "--live_dir", sandbox / "live", *extra)

    assert rc == 2
    msg = one_error_line(err, "train")
    for phrase in phrases:
        assert phrase in msg
    assert files_under(sandbox) == before
    assert not (sandbox / "models").exists() and not (sandbox / ".models_work").exists()


def test_missing_params_file_named(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(capsys, "train", "--params", sandbox / "nope.yaml")
    assert rc == 2 and f"{sandbox / 'nope.yaml'}: params file not found" in one_error_line(err, "train")


def test_params_file_not_yaml(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (sandbox / "params.yaml").write_text("strategy: [joint_uniform\nseed: 1\n")
    rc, _, err = run_cli(capsys, "silver")
    assert rc == 2 and "params.yaml: not valid YAML" in one_error_line(err, "silver")


# ================================================================================================= 3. Hub
def _cli_subprocess(args: list[str], cwd: Path, env_extra: dict[str, str], timeout: float = 60
                    ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HOME=str(cwd / "hf-home"), HF_HUB_DISABLE_PROGRESS_BARS="1", OMP_NUM_THREADS="1", **env_extra)
    return subprocess.run([sys.executable, "-m", "bioner.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def error_hub() -> Iterator[str]:
    """A fake Hub endpoint answering like the Hub for a missing repo (`*/no-such-repo`) or a missing revision."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            missing_repo = "/no-such-repo/" in self.path
            self.send_response(401 if missing_repo else 404)
            self.send_header("X-Error-Code", "RepoNotFound" if missing_repo else "RevisionNotFound")
            self.send_header("X-Error-Message", "Repository not found" if missing_repo else "Invalid rev id")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# `bioner fetch` takes --source: the hint says so (bioner.hints)
OFFLINE_ALTERNATIVES = "to work offline use --source sample (synthetic corpus) or --source /path/to/dir"


def test_hub_offline_mode_names_repo_revision_and_alternatives(sandbox: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (sandbox / "raw").mkdir()
    (sandbox / "raw" / "previous.txt").write_text("old fetch")
    rc, _, err = run_cli(capsys, "fetch", "--source", "hub", "--dest", sandbox / "raw",
                         "-s", "data.revision=v1.2")
    msg = one_error_line(err, "fetch")
    assert rc == 2
    assert "dataset repo 'lumicero/BioNER-DS' at revision 'v1.2'" in msg and "HF_HUB_OFFLINE=1" in msg
    assert OFFLINE_ALTERNATIVES in msg
    assert files_under(sandbox / "raw") == {"previous.txt": hashlib.sha256(b"old fetch").hexdigest()}
    assert not temp_debris(sandbox)


@pytest.mark.parametrize(("case", "repo", "revision", "phrases"), [
    ("unreachable", "lumicero/BioNER-DS", "main", ["cannot reach the Hugging Face Hub",
                                                  "dataset repo 'lumicero/BioNER-DS' at revision 'main'"]),
    ("repo_not_found", "lumicero/no-such-repo", "main", ["dataset repo 'lumicero/no-such-repo' (revision 'main') "
                                                         "not found on the Hub"]),
    ("revision_not_found", "lumicero/BioNER-DS", "v9-missing", [
        "revision 'v9-missing' not found in dataset repo 'lumicero/BioNER-DS'"]),
], ids=["unreachable", "repo_not_found", "revision_not_found"])
def test_hub_errors_one_message(case: str, repo: str, revision: str, phrases: list[str], sandbox: Path,
                                error_hub: str) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}" if case == "unreachable" else error_hub
    t0 = time.time()
    proc = _cli_subprocess(["fetch", "--source", "hub", "--dest", "raw", "-s", f"data.repo={repo}",
                            "-s", f"data.revision={revision}"], sandbox,
                           {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": endpoint})
    assert proc.returncode == 2, proc.stderr
    msg = one_error_line(proc.stderr, "fetch")
    for phrase in phrases:
        assert phrase in msg
    assert OFFLINE_ALTERNATIVES in msg
    assert time.time() - t0 < 30  # fails fast, no retry loop
    assert not (sandbox / "raw").exists() and not temp_debris(sandbox)


# ================================================================================= 4. interrupted training
_STALLING_TRAIN = """
import os, sys, time
from pathlib import Path
from transformers import TrainerCallback
import bioner.training.trainer as T

class Stall(TrainerCallback):
    # Test instrumentation only: hold the run mid-epoch so the kill lands there deterministically.
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == int(os.environ["STALL_AT_STEP"]):
            Path(os.environ["STALL_MARKER"]).write_text(str(state.global_step))
            time.sleep(600)

_init = T.WeightedTokenTrainer.__init__
def _patched(self, *a, **k):
    _init(self, *a, **k)
    self.add_callback(Stall())
T.WeightedTokenTrainer.__init__ = _patched

from bioner.cli import main
sys.exit(main(sys.argv[1:]))
"""


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


def test_kill_9_mid_epoch_then_resume(sandbox: Path, small_sample_dir: Path, capsys: pytest.CaptureFixture[str],
                                      caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 in epoch 2 -> no model in models/; the same command resumes from checkpoint-8 (16 more steps,
    not 24); an incomplete newer checkpoint is discarded; a changed setting starts a fresh run."""
    raw = copy_data(small_sample_dir, sandbox / "raw")
    out, work = sandbox / "models", sandbox / "work"
    # 120 sentences / batch 16 = 8 steps per epoch; 3 epochs = 24 steps; a checkpoint each epoch
    argv = ["train", "--params", str(sandbox / "params.yaml"), "--strategy", "single_source", "--backbone", "tiny",
            "--epochs", "3", "--batch_size", "16", "--data_dir", str(raw), "--output_dir", str(out),
            "--work_dir", str(work), "--silver_dir", str(sandbox / "silver"), *TINY_SETS]
    marker = sandbox / "stalled"
    env = dict(os.environ, STALL_AT_STEP="12", STALL_MARKER=str(marker), OMP_NUM_THREADS="1")
    log_file = sandbox / "killed_run.log"
    with open(log_file, "w") as log_fh:  # a file, not a pipe: a full pipe would block the child
        proc = subprocess.Popen([sys.executable, "-c", _STALLING_TRAIN, *argv], cwd=sandbox, env=env,
                                stdout=log_fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not marker.exists():
            assert proc.poll() is None, log_file.read_text()[-3000:]
            assert time.time() < deadline, "training never reached step 12"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    (run_dir,) = list(work.iterdir())  # work/<fingerprint>
    phase1 = run_dir / "phase1"
    assert sorted(p.name for p in phase1.glob("checkpoint-*")) == ["checkpoint-8"]
    assert json.loads((phase1 / "checkpoint-8" / "trainer_state.json").read_text())["global_step"] == 8
    assert not (out / "best_model").exists() and not (out / "config_snapshot.yaml").exists()
    # what a kill during a later save would leave: a half-written checkpoint and a half-written model dir
    (phase1 / "checkpoint-16").mkdir()
    (phase1 / "checkpoint-16" / "model.safetensors").write_bytes(b"\0" * 100)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    from bioner.io.atomic_temps import HOST

    stale = out / f".best_model.tmp-{HOST}-{int(gone.stdout)}-0a1b2c3d"  # its owner has exited
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"\0" * 100)

    # a changed setting (seed) must not resume the stale run: fresh fingerprint, all 24 steps
    steps = _count_training_steps(monkeypatch)
    caplog.set_level(logging.INFO)
    seed_argv = [*argv, "--seed", "7"]
    seed_argv[seed_argv.index("--output_dir") + 1] = str(sandbox / "models_seed7")
    rc, _, err = run_cli(capsys, *seed_argv)
    assert rc == 0, err
    assert len(steps) == 24 and not any("resuming from" in m for m in caplog.messages)
    assert len(list(work.iterdir())) == 2 and (phase1 / "checkpoint-8").is_dir()

    # the same command again resumes from the last complete checkpoint
    steps.clear()
    caplog.clear()
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 0, err
    assert f"removing incomplete checkpoint {phase1 / 'checkpoint-16'} (interrupted while it was written)" \
        in caplog.messages
    assert f"resuming from {phase1 / 'checkpoint-8'}" in caplog.messages
    assert len(steps) == 16  # steps 9..24 only, not from scratch
    snap = yaml.safe_load((out / "config_snapshot.yaml").read_text())
    assert snap["run"]["phase1"]["resumed_from"] == str(phase1 / "checkpoint-8")
    assert snap["run"]["phase1"]["steps"] == 24
    # what this process did, and what the run did (#18 item 7: it logged "trained 24 steps" having run 16)
    assert snap["run"]["phase1"]["process"]["steps"] == 16
    assert any(m.startswith("this process trained steps 9-24 (16 steps) in ") and "; the run: 24 steps, train loss "
               in m for m in caplog.messages), caplog.messages
    # the run's train loss and model equal an uninterrupted run's (the loss used to cover the resumed steps only)
    ref_argv = [*argv]
    ref_argv[ref_argv.index("--output_dir") + 1] = str(sandbox / "models_ref")
    ref_argv[ref_argv.index("--work_dir") + 1] = str(sandbox / "work_ref")
    assert run_cli(capsys, *ref_argv)[0] == 0
    ref = yaml.safe_load((sandbox / "models_ref" / "config_snapshot.yaml").read_text())["run"]["phase1"]
    assert ref["steps"] == 24 and ref["process"]["steps"] == 24
    assert snap["run"]["phase1"]["train_loss"] == pytest.approx(ref["train_loss"], rel=1e-5)
    assert snap["run"]["phase1"]["process"]["train_loss"] != pytest.approx(ref["train_loss"], rel=1e-3)
    assert (out / "best_model" / "model.safetensors").read_bytes() == \
        (sandbox / "models_ref" / "best_model" / "model.safetensors").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["best_model", "config_snapshot.yaml"]  # debris removed
    assert {"config.json", "model.safetensors", "tokenizer.json", "bioner.json"} <= {
        p.name for p in (out / "best_model").iterdir()}
    rc, _, err = run_cli(capsys, "evaluate", "--checkpoint", out / "best_model", "--test_set", "test_bc5cdr",
                         "--data_dir", raw)
    assert rc == 0, err


def test_resume_key_tracks_data_content_not_mtime(tmp_path: Path, small_sample_dir: Path) -> None:
    """The work dir is keyed by settings + data contents: `dvc checkout` rewriting identical files still
    resumes; an edited data file or setting never resumes the stale run."""
    from bioner.training.runtime import run_fingerprint

    raw = copy_data(small_sample_dir, tmp_path / "raw")
    s = S.from_dict({"strategy": "single_source"})
    fp = run_fingerprint(s, raw)
    train_file = raw / DATA_FILES["train"]
    os.utime(train_file, (1, 1))
    assert run_fingerprint(s, raw) == fp
    train_file.write_bytes(train_file.read_bytes().replace(b'"B-Chemical"', b'"O"', 1))
    assert run_fingerprint(s, raw) != fp
    assert run_fingerprint(S.from_dict({"strategy": "single_source", "seed": 1}), small_sample_dir) != \
        run_fingerprint(S.from_dict({"strategy": "single_source"}), small_sample_dir)


# ========================================================================================== 5. checkpoints
@pytest.fixture(scope="module")
def pickle_model(trained: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained model re-saved with only pickle weights (pytorch_model.bin), as old checkpoints are."""
    import torch
    from safetensors.torch import load_file

    d = tmp_path_factory.mktemp("pickle") / "best_model"
    shutil.copytree(trained["model"], d)
    torch.save(load_file(str(d / "model.safetensors")), d / "pytorch_model.bin")
    (d / "model.safetensors").unlink()
    return d


def _predict_argv(sandbox: Path, model: Path, raw: Path) -> list[str | Path]:
    return ["predict", "--checkpoint", model, "--input", raw / DATA_FILES["test_bc5cdr"],
            "--output", sandbox / "out" / "predictions.jsonl"]


def _evaluate_argv(sandbox: Path, model: Path, raw: Path) -> list[str | Path]:
    return ["evaluate", "--checkpoint", model, "--test_set", "test_bc5cdr", "--data_dir", raw,
            "--output", sandbox / "out" / "eval_test_bc5cdr.json"]


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_pickle_checkpoint_refused_unless_allowed(command: str, sandbox: Path, trained: dict, pickle_model: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv = (_evaluate_argv if command == "evaluate" else _predict_argv)(sandbox, pickle_model, trained["raw"])
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 2
    msg = one_error_line(err, command)
    assert f"{pickle_model}: holds only pickle weights (pytorch_model.bin)" in msg and "--allow_pickle" in msg
    assert not (sandbox / "out").exists()

    output = Path(argv[-1])
    rc, _, err = run_cli(capsys, *argv, "--allow_pickle")
    assert rc == 0, err
    pickled = output.read_bytes()
    # same weights as the safetensors model -> same output
    argv_st = (_evaluate_argv if command == "evaluate" else _predict_argv)(sandbox, trained["model"], trained["raw"])
    assert run_cli(capsys, *argv_st)[0] == 0
    st_out = output.read_bytes()
    if command == "evaluate":
        a, b = json.loads(pickled), json.loads(st_out)
        assert a["micro"] == b["micro"] and a["per_entity"] == b["per_entity"]
    else:
        assert pickled == st_out


def test_pickle_backbone_refused_for_training(sandbox: Path, trained: dict, pickle_model: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(capsys, "train", "--backbone", pickle_model, "--data_dir", trained["raw"],
                         "--output_dir", sandbox / "models")
    assert rc == 2
    msg = one_error_line(err, "train")
    assert f"backbone '{pickle_model}'" in msg and "safetensors only" in msg
    assert not (sandbox / "models").exists() and not (sandbox / ".models_work").exists()


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (n for n in ast.walk(tree) if isinstance(n, ast.Call))


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_source_never_enables_remote_code_or_pickle_by_default() -> None:
    """Static check over src/bioner: every from_pretrained passes trust_remote_code=False (a literal), model
    loads pass use_safetensors, torch.load is weights_only=True, and nothing sets trust_remote_code=True."""
    n_from_pretrained = 0
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree):
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            where = f"{path.name}:{call.lineno}"
            trc = _kw(call, "trust_remote_code")
            if trc is not None:
                assert isinstance(trc, ast.Constant) and trc.value is False, where
            if name == "from_pretrained":
                n_from_pretrained += 1
                assert isinstance(trc, ast.Constant) and trc.value is False, f"{where}: trust_remote_code=False"
                owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
                if owner.startswith("AutoModel"):
                    assert _kw(call, "use_safetensors") is not None, f"{where}: use_safetensors"
            if name == "load" and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "torch":
                wo = _kw(call, "weights_only")
                assert isinstance(wo, ast.Constant) and wo.value is True, f"{where}: weights_only=True"
            if name == "pipeline":
                raise AssertionError(f"{where}: transformers.pipeline bypasses the model factory")
    assert n_from_pretrained >= 3


# =========================================================================================== 6. atomic
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


@pytest.fixture(scope="module")
def evals(trained: dict) -> Path:
    """eval_test_*.json of the trained model, as the evaluate stage writes them."""
    metrics = trained["root"] / "metrics"
    for ts in ("test_bc5cdr", "test_pubmed"):
        assert main(["evaluate", "--checkpoint", str(trained["model"]), "--test_set", ts,
                     "--data_dir", str(trained["raw"]), "--output", str(metrics / f"eval_{ts}.json")]) == 0
    return metrics


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
    if command == "silver":
        return ["silver", "--data_dir", trained["raw"], "--out", out]
    if command == "train":
        shutil.copytree(trained["models"], out)
        return ["train", "--strategy", "single_source", "--backbone", trained["backbone"], "--epochs", "1",
                "--seed", "3", "--data_dir", trained["raw"], "--output_dir", out, "--work_dir", sandbox / "work",
                "--silver_dir", sandbox / "none"]
    return ["fetch", "--source", "sample", "--dest", out / "raw"]


def _fail_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up under every atomically written file: its fsync fails as a full disk reports it."""

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device (simulated)")

    monkeypatch.setattr(os, "fsync", fsync)


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
    assert msg == (f"bioner {command}: error: {target_path}: cannot write it ({cause}); the previous version is "
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


# ============================================================ 7. round two (issue 18): modes, full disk, leftovers
@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize(("command", "target"), [
    ("evaluate", "eval_test_bc5cdr.json"), ("predict", "predictions.jsonl"), ("silver", "silver_1.jsonl"),
    ("aggregate", "config_snapshot.yaml"), ("fetch", "raw"), ("train", "best_model")])
def test_outputs_get_umask_modes_and_keep_an_existing_mode(command: str, target: str, sandbox: Path, trained: dict,
                                                          evals: Path, umask_027: None,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """New outputs get the mode a plain open()/mkdir() gives (umask 027: files 0640, dirs 0750), never 0600;
    rewriting an output keeps the mode it has."""
    out = sandbox / "out"
    argv = _stage_argv(command, sandbox, trained, evals)
    if command == "train":  # the copied previous outputs carry the copier's modes: start from nothing
        shutil.rmtree(out)
    elif command == "aggregate":
        for p in out.rglob("*"):
            p.chmod(0o750 if p.is_dir() else 0o640)
    assert run_cli(capsys, *argv)[0] == 0
    modes = _modes(out)
    written = {k: m for k, m in modes.items() if not k.startswith("metrics/eval_")}  # aggregate's inputs
    assert written and all(m == (0o750 if (out / k).is_dir() else 0o640) for k, m in written.items()), written

    (target_path,) = list(out.rglob(target))
    kept = 0o705 if target_path.is_dir() else 0o604
    target_path.chmod(kept)
    assert run_cli(capsys, *argv)[0] == 0
    assert target_path.stat().st_mode & 0o777 == kept


def test_stale_temp_of_a_killed_predict_is_removed_by_the_next_run(sandbox: Path, trained: dict,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """kill -9 while predict writes: its temp file stays (the output is intact); the next predict to the same
    output removes it and says so. A temp of a live process (another predict writing right now) or of another
    host is never removed."""
    big = sandbox / "big.jsonl"
    rows = (trained["raw"] / DATA_FILES["test_bc5cdr"]).read_text(encoding="utf-8")
    big.write_text(rows * 400, encoding="utf-8")  # 16k sentences: tagging takes a while
    output = sandbox / "out" / "predictions.jsonl"
    argv = ["predict", "--checkpoint", str(trained["model"]), "--input", str(big), "--output", str(output)]
    proc = subprocess.Popen([sys.executable, "-m", "bioner.cli", *argv], cwd=sandbox,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not list(output.parent.glob(".predictions.jsonl.tmp*")):
            assert proc.poll() is None and time.time() < deadline, "predict never started writing"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (killed,) = output.parent.glob(".predictions.jsonl.tmp*")
    assert f"-{proc.pid}-" in killed.name  # the owner is in the name
    assert not output.exists()
    live_owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        from bioner.io.atomic_temps import HOST

        busy = output.with_name(f".predictions.jsonl.tmp-{HOST}-{live_owner.pid}-0a1b2c3d")
        busy.write_text("another process is writing this")
        remote = output.with_name(".predictions.jsonl.tmp-otherhost-12345-0a1b2c3d")
        remote.write_text("a process on another machine sharing this disk")
        caplog.set_level(logging.WARNING)
        rc, _, err = run_cli(capsys, "predict", "--checkpoint", trained["model"], "--input",
                             trained["raw"] / DATA_FILES["test_bc5cdr"], "--output", output)
        assert rc == 0, err
        assert not killed.exists()
        assert f"removed {killed}, a temp file left by process {proc.pid} (no longer running) while writing " \
               f"{output}" in caplog.messages
        assert busy.exists() and remote.exists()
        assert any(m.startswith(f"{remote}: temp file of process 12345 on host otherhost") for m in caplog.messages)
        assert len(output.read_text().splitlines()) == 40
    finally:
        live_owner.kill()
        live_owner.wait()


def _unshare_available() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


_FULL_DISK = """
set -e
mount -t tmpfs -o size="$SIZE" tmpfs "$MNT"
cp -a "$PREV"/. "$MNT"/
dd if=/dev/zero of="$MNT/.filler" bs=4k 2>/dev/null || true
set +e
"$@" 2>"$ERR" >/dev/null
echo $? >"$RC"
rm -f "$MNT/.filler"
cp -a "$MNT"/. "$AFTER"/
"""


@pytest.mark.skipif(not _unshare_available(), reason="needs unprivileged user+mount namespaces (unshare -rm)")
@pytest.mark.parametrize(("command", "target"), [  # predict writes like evaluate (atomic_open): injected above
    ("evaluate", "eval_test_bc5cdr.json"), ("silver", "silver_1.jsonl"), ("fetch", "raw"), ("train", "best_model")])
def test_really_full_disk(command: str, target: str, sandbox: Path, trained: dict, evals: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """The same on a real full filesystem (a tmpfs holding the previous output, then filled up): one line
    naming the output and 'No space left on device', exit 2, the previous output byte-identical, no temp."""
    argv = _stage_argv(command, sandbox, trained, evals)
    if command != "train":
        assert run_cli(capsys, *argv)[0] == 0
    prev, after, mnt = sandbox / "out", sandbox / "after", sandbox / "mnt"
    after.mkdir()
    mnt.mkdir()
    if command == "train":  # just the model: the tmpfs is small
        for p in prev.iterdir():
            if p.name != "best_model":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    argv = [str(a).replace(str(prev), str(mnt)) for a in argv]
    size = sum(p.stat().st_size for p in prev.rglob("*") if p.is_file()) + 2**20  # holds the old output
    env = dict(os.environ, MNT=str(mnt), PREV=str(prev), AFTER=str(after), ERR=str(sandbox / "err"),
               RC=str(sandbox / "rc"), SIZE=str(size))
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", _FULL_DISK, "sh", sys.executable, "-m", "bioner.cli",
                           *argv], cwd=sandbox, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    err = (sandbox / "err").read_text()
    assert (sandbox / "rc").read_text().strip() == "2", err
    msg = last_error_line(err, command)
    (target_path,) = [p for p in prev.rglob(target)]
    dest = mnt / target_path.relative_to(prev)
    assert msg.startswith(f"bioner {command}: error: {dest}: cannot write it (No space left on device); the "
                          "previous version is unchanged. Fix: free space"), msg
    assert files_under(after) == files_under(prev)  # byte for byte, nothing added (no temp), nothing lost


# ===================================================== 8. round two: wrong answers, tracebacks, input contracts
#: (command, flag, value, the allowed values named in the message)
NUMERIC_FLAG_CASES = [
    ("predict", "--batch_size", "-1", "an integer >= 1"),  # used to tag nothing and exit 0
    ("predict", "--batch_size", "0", "an integer >= 1"),
    ("predict", "--batch_size", "many", "an integer >= 1"),
    ("predict", "--max_length", "2", "an integer >= 3 (sub-tokens per window, special tokens included)"),
    ("predict", "--max_length", "-5", "an integer >= 3 (sub-tokens per window, special tokens included)"),
    ("evaluate", "--batch_size", "-1", "an integer >= 1"),  # used to report F1 0.0000 and exit 0
    ("evaluate", "--batch_size", "0", "an integer >= 1"),
    ("report", "--min_support", "-1", "an integer >= 0"),
    ("grid", "--jobs", "0", "an integer >= 1"),
]


@pytest.mark.parametrize(("command", "flag", "value", "allowed"), NUMERIC_FLAG_CASES,
                         ids=[f"{c}{f}={v}" for c, f, v, _ in NUMERIC_FLAG_CASES])
def test_numeric_flags_are_validated(command: str, flag: str, value: str, allowed: str, sandbox: Path,
                                     trained: dict, capsys: pytest.CaptureFixture[str]) -> None:
    """Every numeric flag: a bad value is one line naming the flag, the value and what is allowed, exit 2,
    before any work (nothing written)."""
    base = {"predict": _predict_argv(sandbox, trained["model"], trained["raw"]),
            "evaluate": _evaluate_argv(sandbox, trained["model"], trained["raw"]),
            "report": ["report", "--out_dir", sandbox / "out"], "grid": ["grid", "--dry_run"]}[command]
    before = files_under(sandbox)
    rc, out, err = run_cli(capsys, *base, flag, value)
    assert rc == 2 and not out
    shown = repr(value) if not value.lstrip("-").isdigit() else value
    assert one_error_line(err, command) == (f"bioner {command}: error: argument {'-j/' if flag == '--jobs' else ''}"
                                            f"{flag}: {shown} is not allowed; allowed: {allowed} "
                                            f"(see bioner {command} --help)")
    assert files_under(sandbox) == before


def test_window_too_small_for_the_model_is_a_message(trained: dict) -> None:
    """A window length the CLI allows but a model with more special tokens cannot use: one line, no traceback."""
    from bioner.tagging.inference import WindowError, tag_words
    from bioner.training.modeling import load_checkpoint

    tok, model = load_checkpoint(trained["model"])
    with pytest.raises(WindowError) as exc:
        list(tag_words([["aspirin"]], tok, model, max_length=2))
    assert str(exc.value) == "max_length=2: leaves no room for words after the model's 2 special tokens; " \
                             "allowed: >= 3 for this model"


_EVIL_PICKLE = b"cos\nsystem\n(S'echo pwned > PWNED'\ntR."  # os.system(...) when unpickled


@pytest.mark.parametrize("case", ["corrupt_pickle", "code_in_pickle", "corrupt_safetensors",
                                  "truncated_safetensors", "broken_config", "file_as_checkpoint", "missing"])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_unloadable_checkpoint_is_one_line(command: str, case: str, sandbox: Path, trained: dict, pickle_model: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A checkpoint that cannot be loaded is one line naming it and the cause (no traceback), exit 2, no output,
    and nothing in a pickle ever runs."""
    ckpt = sandbox / "ckpt"
    shutil.copytree(trained["model"], ckpt)
    weights = ckpt / "model.safetensors"
    extra: list[str] = []
    if case in ("corrupt_pickle", "code_in_pickle"):
        weights.unlink()
        real = (pickle_model / "pytorch_model.bin").read_bytes()
        (ckpt / "pytorch_model.bin").write_bytes(real[: len(real) // 2] if case == "corrupt_pickle" else _EVIL_PICKLE)
        extra = ["--allow_pickle"]
    elif case == "corrupt_safetensors":
        weights.write_bytes(os.urandom(2000))
    elif case == "truncated_safetensors":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif case == "broken_config":
        (ckpt / "config.json").write_text("{")
    elif case == "file_as_checkpoint":
        shutil.rmtree(ckpt)
        ckpt.write_text("not a model")
    else:
        shutil.rmtree(ckpt)
    argv = (_evaluate_argv if command == "evaluate" else _predict_argv)(sandbox, ckpt, trained["raw"])
    rc, _, err = run_cli(capsys, *argv, *extra)
    assert rc == 2
    msg = one_error_line(err, command)
    expected = {
        "corrupt_pickle": f"{ckpt}: cannot load the checkpoint (RuntimeError: PytorchStreamReader failed reading",
        "code_in_pickle": f"{ckpt}: refused to load its pickle weights: they hold objects other than tensors, "
                          "which could run code (nothing was run)",
        "corrupt_safetensors": f"{ckpt}: cannot load the checkpoint (SafetensorError: Error while deserializing "
                               "header",
        "truncated_safetensors": f"{ckpt}: cannot load the checkpoint (SafetensorError: Error while deserializing "
                                 "header",
        "broken_config": f"{ckpt}: cannot load the checkpoint (OSError: It looks like the config file at "
                         f"'{ckpt / 'config.json'}' is not a valid JSON file.)",
        "file_as_checkpoint": f"{ckpt}: is a file, not a checkpoint directory. Fix: pass the directory `bioner "
                              "train` wrote (e.g. models/best_model)",
        "missing": f"{ckpt}: checkpoint directory not found. Fix: pass",
    }[case]
    assert msg.startswith(f"bioner {command}: error: {expected}"), msg
    assert not (sandbox / "out").exists() and not (sandbox / "PWNED").exists()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_directory_where_a_data_file_belongs(command: str, sandbox: Path, small_sample_dir: Path, trained: dict,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A directory in place of a data file is named as such (it used to say "file not found")."""
    raw = copy_data(small_sample_dir, sandbox / "raw")
    target_key, argv = COMMANDS[command]
    target = raw / DATA_FILES[target_key]
    target.unlink()
    target.mkdir()
    before = files_under(sandbox)
    rc, _, err = run_cli(capsys, *argv(sandbox, raw, trained))
    assert rc == 2
    assert one_error_line(err, argv(sandbox, raw, trained)[0]).endswith(
        f"error: {target}: is a directory, not a JSONL file. Fix: check --data_dir (it holds the layout "
        "bc5cdr/*.jsonl, pubmed/*.jsonl) or re-run `bioner fetch`")
    assert files_under(sandbox) == before


@pytest.mark.parametrize("command", ["predict", "evaluate", "silver", "fetch", "aggregate"])
@pytest.mark.parametrize("where", ["under_a_file", "a_directory"])
def test_bad_output_path_fails_first_in_one_line(command: str, where: str, sandbox: Path, trained: dict,
                                                 evals: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """An output path under a regular file (`/etc/hostname/x`) or a file output that is a directory: one line
    naming the output and why, exit 2, before the model is loaded or any data read."""
    import bioner.training.modeling

    blocker = sandbox / "blocker"
    blocker.write_text("a file")

    def loaded(*_a: object, **_k: object) -> None:
        raise AssertionError("the model was loaded although the output cannot be written")

    monkeypatch.setattr(bioner.training.modeling, "load_checkpoint", loaded)
    file_output = command in ("predict", "evaluate")
    if where == "under_a_file":
        dest = blocker / "sub" / ("out.jsonl" if file_output else "dir")
        reason = f"{blocker} is a file, not a directory)"
    elif file_output:
        dest = sandbox / "a_dir"
        dest.mkdir()
        reason = "it is a directory; give a file name)"
    else:
        dest = blocker
        reason = "it is a file, not a directory)"
    argv: list[str | Path] = {
        "predict": ["predict", "--checkpoint", trained["model"], "--input", trained["raw"] / DATA_FILES["test_bc5cdr"],
                    "--output", dest],
        "evaluate": ["evaluate", "--checkpoint", trained["model"], "--test_set", "test_bc5cdr", "--data_dir",
                     trained["raw"], "--output", dest],
        "silver": ["silver", "--data_dir", trained["raw"], "--out", dest],
        "fetch": ["fetch", "--source", "sample", "--dest", dest],
        "aggregate": ["aggregate", "--model_dir", trained["models"], "--metrics_dir", evals, "--plots_dir", dest],
    }[command]
    before = files_under(sandbox)
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 2
    assert one_error_line(err, command) == f"bioner {command}: error: {dest}: cannot write it ({reason}"
    assert files_under(sandbox) == before and not temp_debris(sandbox)


def _all_one_label(model_dir: Path, dest: Path, label: str) -> Path:
    """A copy of a checkpoint whose classifier says `label` for every sub-token, [UNK] included."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(model_dir, dest)
    cfg = json.loads((dest / "config.json").read_text())
    weights = load_file(str(dest / "model.safetensors"))
    weights["classifier.weight"].zero_()
    weights["classifier.bias"].fill_(-10.0)
    weights["classifier.bias"][cfg["label2id"][label]] = 10.0
    save_file(weights, str(dest / "model.safetensors"), metadata={"format": "pt"})
    return dest


def test_whitespace_tokens_are_never_part_of_a_span(sandbox: Path, trained: dict,
                                                    capsys: pytest.CaptureFixture[str],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """A model that tags every word B-Chemical: whitespace-only tokens still get O (not shown to the model),
    and their count is logged; token indices keep pointing into the input's tokens."""
    model = _all_one_label(trained["model"], sandbox / "all_chem", "B-Chemical")
    inp = sandbox / "in.jsonl"
    inp.write_text(json.dumps({"tokens": ["aspirin", "\t", "", "ulcers", " "]}) + "\n", encoding="utf-8")
    caplog.set_level(logging.WARNING)
    rc, _, err = run_cli(capsys, "predict", "--checkpoint", model, "--input", inp, "--output", sandbox / "o.jsonl")
    assert rc == 0, err
    (row,) = [json.loads(line) for line in (sandbox / "o.jsonl").read_text().splitlines()]
    assert row["tokens"] == ["aspirin", "\t", "", "ulcers", " "]
    assert [(p["entity"], p["start_token"], p["end_token"]) for p in row["predictions"]] == [
        ("aspirin", 0, 0), ("ulcers", 3, 3)]
    assert f"{inp}: 3 whitespace-only token(s) tagged O (a token needs a visible character to be part of an " \
           "entity)" in caplog.messages


def test_whitespace_tokens_in_data_are_dropped_with_a_count(tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """Training/test data: whitespace-only tokens are dropped with their tags and counted; a B- tag on one
    leaves its I- continuation to the IOB2 repair (counted too); a sentence of blanks only is skipped."""
    from bioner.data.corpus import load_corpus

    path = tmp_path / "d.jsonl"
    recs = [{"tokens": ["IL-6", "\t", "levels"], "decoded_tags": ["O", "B-Chemical", "O"]},
            {"tokens": [" ", "aspirin", "dose"], "decoded_tags": ["B-Chemical", "I-Chemical", "O"]},
            {"tokens": ["\t", ""], "decoded_tags": ["O", "O"]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    caplog.set_level(logging.WARNING)
    c = load_corpus(path, "decoded_tags")
    assert c.tokens == [["IL-6", "levels"], ["aspirin", "dose"]]
    assert c.tags == [["O", "O"], ["B-Chemical", "O"]]
    assert (c.dropped_blank, c.repaired, c.skipped_empty) == (4, 1, 1)
    assert f"{path}: dropped 4 whitespace-only token(s) with their tags (a token needs a visible character)" \
        in caplog.messages


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_predict_writes_one_line_per_input_line(fmt: str, sandbox: Path, trained: dict,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """One line out per line in, blank lines included (no tokens, no predictions), so output line N answers
    input line N; sentence_id stays the 0-based line number."""
    lines = ["aspirin causes ulcers", "", "   ", "IL-6 levels", "\t"]
    if fmt == "jsonl":
        lines = [json.dumps({"tokens": ln.split()}) if ln.strip() else ln for ln in lines]
    inp = sandbox / f"in.{'txt' if fmt == 'text' else 'jsonl'}"
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc, out, err = run_cli(capsys, "predict", "--checkpoint", trained["model"], "--input", inp,
                           "--output", sandbox / "o.jsonl")
    assert rc == 0, err
    rows = [json.loads(line) for line in (sandbox / "o.jsonl").read_text().splitlines()]
    assert len(rows) == len(lines)
    assert [r["sentence_id"] for r in rows] == [str(i) for i in range(len(lines))]
    for i in (1, 2, 4):
        assert rows[i]["tokens"] == [] and rows[i]["predictions"] == []
        assert rows[i].get("text") == (lines[i] if fmt == "text" else None)
    assert rows[3]["tokens"] == ["IL-6", "levels"]


def test_tests_never_touch_the_users_files() -> None:
    """The code paths that read the Hugging Face token and open a DVC repo, run in a test: they must find the
    session's own HF_HOME and no DVC repo (conftest isolates both; its audit hook records any access to the
    user's files)."""
    import conftest
    from bioner.settings.backbones import BackboneError
    from bioner.training import modeling
    from bioner.training.callbacks import open_live

    start = len(conftest.TOUCHED)
    with pytest.raises(BackboneError):
        modeling.load_tokenizer("no-such-org/no-such-model-xyz")  # looks for a token and the Hub cache
    live = open_live(Path("live"))  # dvclive looks for a DVC repo from the working directory
    live.end()
    assert conftest.TOUCHED[start:] == []
    assert not os.environ["HF_HOME"].startswith(str(Path.home()))
    assert Path.cwd() != conftest.ROOT and conftest.ROOT not in Path.cwd().parents


# ============================================= 9. round two: concurrent trainings, writability, resume records
_GATED_TRAIN = """
import os, sys, time
from pathlib import Path
from transformers import TrainerCallback
import bioner.training.trainer as T

class Gate(TrainerCallback):
    # Test instrumentation only: hold the run after its first step while the gate file exists.
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 1:
            Path(os.environ["GATE"] + ".reached").write_text("1")
            while Path(os.environ["GATE"]).exists():
                time.sleep(0.05)

_init = T.WeightedTokenTrainer.__init__
def _patched(self, *a, **k):
    _init(self, *a, **k)
    self.add_callback(Gate())
T.WeightedTokenTrainer.__init__ = _patched

from bioner.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_concurrent_trainings_into_one_output_dir(sandbox: Path, trained: dict,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Two trainings into one --output_dir: the second is refused at once, naming the first (which finishes
    with a complete model); another process's temp model dir is never taken for stale."""
    import bioner.training.run
    from bioner.io.atomic_temps import HOST

    out = sandbox / "models"
    gate = sandbox / "gate"
    gate.write_text("closed")
    base = ["train", "--strategy", "single_source", "--backbone", str(trained["backbone"]), "--epochs", "1",
            "--data_dir", str(trained["raw"]), "--output_dir", str(out), "--silver_dir", str(sandbox / "none")]
    live_owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    busy = out / f".best_model.tmp-{HOST}-{live_owner.pid}-0a1b2c3d"  # a live process's model being saved
    busy.mkdir(parents=True)
    (busy / "config.json").write_text("{}")
    log_file = sandbox / "first.log"
    with open(log_file, "w") as log_fh:
        first = subprocess.Popen([sys.executable, "-c", _GATED_TRAIN, *base, "--seed", "1"], cwd=sandbox,
                                 env=dict(os.environ, GATE=str(gate)), stdout=log_fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not Path(f"{gate}.reached").exists():
            assert first.poll() is None and time.time() < deadline, log_file.read_text()[-3000:]
            time.sleep(0.05)

        def started(*_a: object, **_k: object) -> None:
            raise AssertionError("the second training read data although the output dir is taken")

        monkeypatch.setattr(bioner.training.run, "load_training_corpora", started)
        rc, _, err = run_cli(capsys, *base, "--seed", "2")
        assert rc == 2
        msg = one_error_line(err, "train")
        assert msg.startswith(f"bioner train: error: {out}: another training is writing this output directory "
                              f"(process {first.pid} on {HOST}, since "), msg
        assert "--seed 1" in msg and msg.endswith("); wait for it to finish or give another --output_dir")
        gate.unlink()
        assert first.wait(timeout=300) == 0, log_file.read_text()[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        live_owner.kill()
        live_owner.wait()
    assert json.loads((out / "best_model" / "bioner.json").read_text())["seed"] == 1
    assert busy.is_dir()  # its owner was alive: not "stale"
    assert sorted(p.name for p in out.iterdir()) == sorted(["best_model", "config_snapshot.yaml", busy.name])
    assert not (sandbox / ".models.lock").exists()  # released
    assert run_cli(capsys, "evaluate", "--checkpoint", out / "best_model", "--test_set", "test_bc5cdr",
                   "--data_dir", trained["raw"])[0] == 0


_READ_ONLY = 'mount --bind "$RO" "$RO" && mount -o remount,bind,ro "$RO" && exec "$@"'


@pytest.mark.parametrize("case", ["output_dir", "work_dir"])  # live_dir, a missing output dir: same check
def test_unwritable_outputs_fail_before_training(case: str, sandbox: Path, trained: dict) -> None:
    """A read-only --output_dir (or --work_dir, --live_dir, the directory a missing one would be made in) is
    reported before any data is read or any step trained, not after the whole training: one line naming the
    path, exit 2."""
    ro = sandbox / "ro"
    ro.mkdir()
    paths = {"output_dir": sandbox / "models", "work_dir": sandbox / "work", "live_dir": sandbox / "live"}
    if case == "output_dir":
        paths["output_dir"] = ro  # exists, read-only
    else:
        paths[case] = ro / case  # to be created in a read-only directory
    argv = ["train", "--strategy", "single_source", "--backbone", str(trained["backbone"]), "--epochs", "1",
            "--data_dir", str(trained["raw"]), "--silver_dir", str(sandbox / "none"),
            *[x for k, v in paths.items() for x in (f"--{k}", str(v))]]
    cmd = [sys.executable, "-m", "bioner.cli", *argv]
    if os.geteuid() != 0:
        ro.chmod(0o555)
    elif _unshare_available():
        cmd = ["unshare", "-rm", "sh", "-c", _READ_ONLY, "sh", *cmd]
    else:
        pytest.skip("root without user namespaces: no way to make a directory read-only")
    try:
        proc = subprocess.run(cmd, cwd=sandbox, env=dict(os.environ, RO=str(ro)), capture_output=True, text=True,
                              timeout=300)
    finally:
        ro.chmod(0o755)
    assert proc.returncode == 2, proc.stderr[-3000:]
    msg = last_error_line(proc.stderr, "train")
    assert msg.startswith(f"bioner train: error: {paths[case]}"), msg  # work_dir: <work_dir>/<fingerprint>
    assert ": cannot write it (" in msg and "Fix: choose a writable location" in msg
    for never in ("align train", "effective batch size", "validation F1"):  # no data read, nothing trained
        assert never not in proc.stderr
    assert sorted(p.name for p in sandbox.iterdir()) == ["params.yaml", "ro"]  # no models/, work/, live/


def test_failed_training_leaves_no_empty_output_dir(sandbox: Path, trained: dict,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A training that fails at the end (disk full while saving the model) leaves no empty output dir behind."""
    out = sandbox / "new" / "models"
    (sandbox / "new").mkdir()
    _fail_safetensors(monkeypatch, ".best_model.tmp")
    rc, _, err = run_cli(capsys, "train", "--strategy", "single_source", "--backbone", trained["backbone"],
                         "--epochs", "1", "--data_dir", trained["raw"], "--output_dir", out,
                         "--work_dir", sandbox / "work", "--silver_dir", sandbox / "none")
    assert rc == 2
    assert one_error_line(err, "train").startswith(f"bioner train: error: {out / 'best_model'}: cannot write it "
                                                   "(No space left on device); nothing was written")
    assert list((sandbox / "new").iterdir()) == []


def test_rerunning_a_finished_training_is_a_no_op(sandbox: Path, trained: dict, capsys: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The same `bioner train` again after it finished (fractional epochs: the last checkpoint is mid-epoch):
    no optimizer step, the same step count, loss and model (it used to add one step per rerun: 16 -> 17 -> 18)."""
    out = sandbox / "models"
    argv = ["train", "--strategy", "single_source", "--backbone", trained["backbone"], "--epochs", "1.5",
            "--data_dir", trained["raw"], "--output_dir", out, "--work_dir", sandbox / "work",
            "--silver_dir", sandbox / "none"]
    assert run_cli(capsys, *argv)[0] == 0
    first = yaml.safe_load((out / "config_snapshot.yaml").read_text())["run"]["phase1"]
    weights = (out / "best_model" / "model.safetensors").read_bytes()
    assert first["steps"] == 12 and first["process"]["steps"] == 12  # 8 steps per epoch x 1.5

    steps = _count_training_steps(monkeypatch)
    caplog.set_level(logging.INFO)
    for _ in range(2):
        assert run_cli(capsys, *argv)[0] == 0
        again = yaml.safe_load((out / "config_snapshot.yaml").read_text())["run"]["phase1"]
        assert steps == [] and again["steps"] == 12 and again["process"]["steps"] == 0
        assert again["train_loss"] == pytest.approx(first["train_loss"], rel=1e-5)
        assert again["best_validation_f1"] == first["best_validation_f1"]
        assert (out / "best_model" / "model.safetensors").read_bytes() == weights
    assert any(m.endswith(": nothing to train; train loss " + f"{again['train_loss']:.4f}")
               and "the run already finished at step 12" in m for m in caplog.messages), caplog.messages
