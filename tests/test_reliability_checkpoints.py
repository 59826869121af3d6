"""Reliability: untrusted checkpoints: pickle weights refused unless allowed, no remote code.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from reliability_helpers import SRC, _calls, _evaluate_argv, _kw, _predict_argv, one_error_line, run_cli


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
