"""The `bioner` command (bioner.cli): train/evaluate/silver in-process, one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bioner.cli.pipeline import main
from bioner.settings import settings as S

TINY_FLAGS = ["-s", "tiny.hidden_size=32", "-s", "tiny.intermediate_size=64", "-s", "tiny.num_layers=1",
              "-s", "tiny.vocab_size=1000", "-s", "train.max_length=64"]


@pytest.fixture(autouse=True)
def _no_params_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty directory so a params.yaml of the repo does not leak into these tests."""
    monkeypatch.chdir(tmp_path)


def _one_line_error(capsys: pytest.CaptureFixture, cmd: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"bioner {cmd}: error: ") and "Traceback" not in err
    return err


def test_train_config_flags_then_evaluate(tmp_path: Path, small_sample_dir: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "OUT"
    rc = main(["train", "--config", "config_5_joint_uniform", "--backbone", "tiny", "--seed", "1337",
               "--output_dir", str(out), "--epochs", "0.5", "--batch_size", "8", "--learning_rate", "0.003",
               "--data_dir", str(small_sample_dir), *TINY_FLAGS])
    assert rc == 0
    assert "best validation F1" in capsys.readouterr().out
    snap = yaml.safe_load((out / "config_snapshot.yaml").read_text())
    assert (snap["strategy"], snap["backbone"], snap["seed"]) == ("joint_uniform", "tiny", 1337)
    assert (snap["train"]["epochs"], snap["train"]["batch_size"], snap["train"]["learning_rate"]) == (0.5, 8, 0.003)
    assert snap["tiny"]["hidden_size"] == 32
    assert (out / "best_model" / "model.safetensors").is_file()

    metrics = tmp_path / "metrics" / "eval" / "pubmed.json"
    rc = main(["evaluate", "--checkpoint", str(out / "best_model"), "--test_set", "test_pubmed",
               "--data_dir", str(small_sample_dir), "--output", str(metrics)])
    assert rc == 0
    res = json.loads(metrics.read_text())
    assert res["annotated_types"] == ["Virus", "Gene"] and set(res["per_entity"]) == {"Virus", "Gene"}
    printed = capsys.readouterr().out
    assert "micro" in printed and "Gene" in printed and str(metrics) in printed

    # both test sets in one call (the pipeline's evaluate stage): one file each, same scores as alone
    both = tmp_path / "both"
    rc = main(["evaluate", "--checkpoint", str(out / "best_model"), "--test_set", "test_bc5cdr",
               "--test_set", "test_pubmed", "--data_dir", str(small_sample_dir), "--output_dir", str(both)])
    assert rc == 0
    assert sorted(p.name for p in both.iterdir()) == ["bc5cdr.json", "pubmed.json"]
    assert json.loads((both / "pubmed.json").read_text())["micro"] == res["micro"]
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(out / "best_model"), "--test_set", "test_bc5cdr",
                 "--test_set", "test_pubmed", "--output", str(tmp_path / "x.json")]) == 2
    assert "use --output_dir" in _one_line_error(capsys, "evaluate")


def test_silver_then_train_from_params_file(tmp_path: Path, small_sample_dir: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    params = S.Settings().model_dump(mode="json")  # a params file lists every key (dvc exp run -S needs them)
    for key, value in {"strategy": "sequential", "backbone": "tiny", "seed": 5, "silver.ratio": 2,
                       "silver.subset_seed": 13, "train.epochs": 0.5, "train.max_length": 64,
                       "train.phase2.epochs": 0.5, "tiny.vocab_size": 1000, "tiny.hidden_size": 32,
                       "tiny.num_layers": 1, "tiny.intermediate_size": 64}.items():
        S.set_dotted(params, key, value)
    p = tmp_path / "my_params.yaml"
    p.write_text(yaml.safe_dump(params))
    silver = tmp_path / "silver"
    assert main(["silver", "--params", str(p), "--data_dir", str(small_sample_dir), "--out", str(silver)]) == 0
    assert (silver / "silver_2.jsonl").is_file() and "silver ratio" in capsys.readouterr().out
    out = tmp_path / "models"
    assert main(["train", "--params", str(p), "--data_dir", str(small_sample_dir), "--silver_dir", str(silver),
                 "--output_dir", str(out)]) == 0
    snap = yaml.safe_load((out / "config_snapshot.yaml").read_text())
    assert (snap["strategy"], snap["seed"], snap["silver"]["ratio"]) == ("sequential", 5, "2")
    assert snap["run"]["data"]["silver_sentences"] == 240  # ratio 2 x 120 gold, from the silver stage's file
    assert (out / "phase1" / "best_model" / "model.safetensors").is_file()


def test_params_yaml_in_cwd_is_read(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    params = S.Settings().model_dump(mode="json")
    params["silver"]["ratio"] = 3
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["silver", "--data_dir", str(tmp_path)]) == 2
    assert "silver.ratio='3'" in _one_line_error(capsys, "silver")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--ratio", "3"], ["silver.ratio='3'", "'1', '2', '4' or 'full'"]),
        (["train", "--epochs", "0"], ["train.epochs=0", "0"]),
        (["train", "--learning_rate", "-0.1"], ["train.learning_rate=-0.1", "> 0 or 'auto'"]),
        (["train", "--set", "train.batch_sise=4"], ["train.batch_sise=4", "unknown key"]),
        (["train", "--set", "train.epochs"], ["expected KEY=VALUE"]),
        (["train", "--set", "seed.x=1"], ["seed is a value"]),
        (["train", "--params", "nope.yaml"], ["nope.yaml: params file not found"]),
        (["train", "--data_dir", "no_data", "--epochs", "1"], ["bc5cdr_train.jsonl: file not found", "bioner fetch"]),
        (["evaluate", "--checkpoint", "no_model", "--test_set", "test_bc5cdr"], ["bc5cdr_test.jsonl: file not found"]),
        (["silver", "--data_dir", "no_data"], ["file not found"]),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], expected: list[str],
                                          capsys: pytest.CaptureFixture) -> None:
    assert main(argv) == 2
    err = _one_line_error(capsys, argv[0])
    for part in expected:
        assert part in err, (part, err)


def test_missing_checkpoint_exits_2(small_sample_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["evaluate", "--checkpoint", "no_model", "--test_set", "test_bc5cdr",
                 "--data_dir", str(small_sample_dir)]) == 2
    assert "no_model: checkpoint directory not found" in _one_line_error(capsys, "evaluate")


def test_bad_corpus_exits_2_with_file_line(tmp_path: Path, small_sample_dir: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    import shutil

    data = tmp_path / "raw"
    shutil.copytree(small_sample_dir, data)
    test = data / "bc5cdr" / "bc5cdr_test.jsonl"
    lines = test.read_text().splitlines()
    lines[6] = lines[6][:-1]  # truncate one JSON object
    test.write_text("\n".join(lines) + "\n")
    (tmp_path / "ckpt").mkdir()
    assert main(["evaluate", "--checkpoint", str(tmp_path / "ckpt"), "--test_set", "test_bc5cdr",
                 "--data_dir", str(data)]) == 2
    assert f"{test}:7: bad JSON" in _one_line_error(capsys, "evaluate")


def test_argparse_choices_exit_2(capsys: pytest.CaptureFixture) -> None:
    """A command line argparse rejects is one line too (no usage block), exit 2."""
    assert main(["train", "--config", "config_9_unknown"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("bioner train: error: argument --config: invalid choice: 'config_9_unknown'")
    assert line.endswith("(see bioner train --help)")


def test_console_script_exit_code(tmp_path: Path) -> None:
    """The installed `bioner` entry point: a bad setting is one line on stderr and exit status 2."""
    exe = Path(sys.executable).with_name("bioner")
    cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "bioner.cli"]
    proc = subprocess.run([*cmd, "silver", "--set", "silver.weight=2"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bioner silver: error: invalid settings: silver.weight=2: ")


def test_validate_checks_every_setting_and_writes_the_stamp_only_on_success(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    params = Path(__file__).parents[1] / "params.yaml"
    stamp = tmp_path / "metrics" / "params_valid.txt"
    assert main(["validate", "--params", str(params), "--stamp", str(stamp)]) == 0
    assert "every setting is valid" in capsys.readouterr().out
    content = stamp.read_bytes()
    assert main(["validate", "--params", str(params), "--stamp", str(stamp), "-s", "seed=7"]) == 0
    assert stamp.read_bytes() == content  # constant: what depends on it never re-runs because of it
    for bad, says in (["-s", "train.epochs=0"], "train.epochs=0"), (["-s", "silver.ratio=3"], "silver.ratio='3'"), \
            (["-s", "backbone=no-org/no-model"], "-s backbone=tiny"), (["-s", "train.epoch=2"], "unknown key"):
        stamp.unlink(missing_ok=True)
        assert main(["validate", "--params", str(params), "--stamp", str(stamp), *bad]) == 2
        assert says in _one_line_error(capsys, "validate")
        assert not stamp.exists()


def test_validate_does_not_import_torch() -> None:
    params = Path(__file__).parents[1] / "params.yaml"
    code = (f"import sys; from bioner.cli import main; rc = main(['validate', '--params', {str(params)!r}]); "
            "print(rc, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "0 False"


@pytest.mark.slow  # a real training in a subprocess
def test_train_output_reads_as_lines(tmp_path: Path, small_sample_dir: Path) -> None:
    """What a person reads: a first line before torch is imported, one line per logging step with
    numbers, no blank lines, no raw log dicts."""
    cmd = [sys.executable, "-X", "importtime", "-m", "bioner.cli", "train", "--data_dir", str(small_sample_dir),
           "--output_dir", str(tmp_path / "m"), "--epochs", "0.5", "-s", "silver.ratio=1", *TINY_FLAGS]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    first_log = next(i for i, ln in enumerate(lines) if " INFO bioner" in ln)
    torch_import = next(i for i, ln in enumerate(lines) if re.match(r"import time:.*\|\s+torch$", ln))
    assert first_log < torch_import and "loading torch and transformers" in lines[first_log]
    out = [ln for ln in lines if not ln.startswith("import time:")] + proc.stdout.splitlines()
    assert all(ln.strip() for ln in out), out  # no blank lines (the tokenizer trainer's progress bars)
    assert not any("{'loss'" in ln or "{'eval_" in ln for ln in out), out
    step = re.compile(r"step (\d+)/(\d+) \(epoch ([\d.]+)\): loss ([\d.]+), lr ([\d.e+-]+)")
    steps = [m for ln in out if (m := step.search(ln))]
    assert len(steps) >= 3 and steps[0].group(1) == "1" and int(steps[-1].group(2)) == int(steps[0].group(2))
    assert all(float(m.group(4)) > 0 for m in steps)
    assert any("validation F1" in ln for ln in out)


def test_every_flag_says_what_it_does_and_its_default() -> None:
    import argparse

    from bioner.cli.args import build_parser
    from bioner.settings.configs import CONFIGS

    sub = next(a for a in build_parser(list(CONFIGS))._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        assert parser.description, f"bioner {name} --help has no description"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            flag = f"bioner {name} {'/'.join(action.option_strings)}"
            assert action.help and len(action.help) > 10, f"{flag}: no help text"
            assert action.required or "default" in action.help, f"{flag}: help does not give the default"
            rendered = parser.format_help()
            assert "%(default)" not in rendered
