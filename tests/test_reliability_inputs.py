"""Reliability: input contracts: numeric flags, unloadable checkpoints, wrong paths, whitespace tokens.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest

from bioner.settings.labels import DATA_FILES
from reliability_helpers import (
    COMMANDS,
    _evaluate_argv,
    _predict_argv,
    copy_data,
    files_under,
    one_error_line,
    run_cli,
    temp_debris,
)

#: (command, flag, value, the allowed values named in the message)
NUMERIC_FLAG_CASES = [
    ("predict", "--batch_size", "-1", "an integer >= 1"),  # would tag nothing and exit 0
    ("predict", "--batch_size", "0", "an integer >= 1"),
    ("predict", "--batch_size", "many", "an integer >= 1"),
    ("predict", "--max_length", "2", "an integer >= 3 (sub-tokens per window, special tokens included)"),
    ("predict", "--max_length", "-5", "an integer >= 3 (sub-tokens per window, special tokens included)"),
    ("evaluate", "--batch_size", "-1", "an integer >= 1"),  # would report F1 0.0000 and exit 0
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
    """A directory in place of a data file is named as such (not "file not found")."""
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
    # a text line is split by the default rule (`punct`: every punctuation character a token, as in the corpora)
    assert rows[3]["tokens"] == (["IL", "-", "6", "levels"] if fmt == "text" else ["IL-6", "levels"])


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
