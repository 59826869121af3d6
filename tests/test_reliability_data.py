"""Reliability: bad and repairable data: one line naming file:line, nothing written; repairs counted.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bioner.settings.labels import DATA_FILES
from reliability_helpers import COMMANDS, copy_data, files_under, one_error_line, run_cli, temp_debris

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
