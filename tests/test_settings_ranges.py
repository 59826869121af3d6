"""Every float setting is finite and in its range: nan and inf are refused by the schema, by `-s KEY=VALUE` and
by the flags that set a setting (`bioner train --learning_rate inf`), before any work."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from bioner.cli.pipeline import main
from bioner.settings import settings as S


def _float_keys(model: type[BaseModel] = S.Settings, prefix: str = "") -> Iterator[str]:
    """Dotted keys of every setting that takes a float (alone or in a union such as `float | 'auto'`)."""
    for name, fld in model.model_fields.items():
        ann = fld.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _float_keys(ann, f"{prefix}{name}.")
        elif ann is float or float in typing.get_args(ann) or any(
                float in typing.get_args(a) for a in typing.get_args(ann)):
            yield f"{prefix}{name}"


FLOAT_KEYS = sorted(_float_keys())


def test_the_schema_has_the_float_settings_the_issue_names() -> None:
    assert {"train.learning_rate", "train.phase2.learning_rate", "train.epochs", "train.phase2.epochs",
            "silver.weight", "train.weight_decay"} <= set(FLOAT_KEYS)


@pytest.mark.parametrize("key", FLOAT_KEYS)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "nan", "inf", ".nan", "-.inf"])
def test_nan_and_inf_are_refused(key: str, value: object) -> None:
    raw = S.parse_override(f"{key}={value}")[1] if isinstance(value, str) else value
    with pytest.raises(S.SettingsError, match=rf"{key}=.*nan and inf are not allowed"):
        S.load(None, {key: raw})


@pytest.mark.parametrize("flags", [["--learning_rate", "inf"], ["--learning_rate", "nan"], ["--epochs", "inf"],
                                   ["-s", "train.phase2.learning_rate=nan"]])
def test_train_flags_refuse_nan_and_inf_before_any_work(flags: list[str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "models"
    rc = main(["train", "--output_dir", str(out), "--data_dir", str(tmp_path / "missing"), *flags])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "nan and inf are not allowed" in err, err
    assert not out.exists()


def test_validate_refuses_nan_learning_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    rc = main(["validate", "-s", "train.learning_rate=nan"])
    assert rc == 2 and "train.learning_rate='nan': nan and inf are not allowed" in capsys.readouterr().err
