"""bioner report: rows averaged over runs from different environments (env_hash) are flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.study.report import build_report, markdown, parse_experiments


def _rev(name: str, seed: int, f1: float, env: str | None) -> dict:
    metrics = {"bc5cdr_f1": f1, "bc5cdr_precision": f1, "bc5cdr_recall": f1, "silver_sentences": 4000,
               "train_threads": 1}
    if env is not None:
        metrics["env_hash"] = env
    params = {"strategy": "joint_uniform", "backbone": "tiny", "seed": seed}
    data = {"params": {"params.yaml": {"data": params}}, "metrics": {"metrics/metrics.json": {"data": metrics}}}
    return {"revs": [{"rev": name * 5, "name": name, "data": data, "error": None}], "executor": None, "name": name}


def _report(*exps: dict) -> dict:
    return build_report(parse_experiments([{"rev": "abc", "name": "main", "experiments": list(exps)}]))


def test_one_environment_is_not_flagged_and_env_hash_is_not_averaged() -> None:
    rep = _report(_rev("a", 42, 0.8, "aaaaaaaaaaaa"), _rev("b", 1337, 0.7, "aaaaaaaaaaaa"))
    (g,) = rep["groups"]
    assert rep["mixed_environments"] == [] and g["environments"] == {"aaaaaaaaaaaa": ["a", "b"]}
    assert "env_hash" not in g["metrics"] and g["metrics"]["bc5cdr_f1"]["n"] == 2
    md = markdown(rep)
    assert "mixed environments" not in md and "different environments" not in md


def test_different_environments_are_flagged_in_json_and_markdown() -> None:
    rep = _report(_rev("a", 42, 0.8, "aaaaaaaaaaaa"), _rev("b", 1337, 0.7, "bbbbbbbbbbbb"),
                  _rev("c", 2024, 0.75, None))
    (mixed,) = rep["mixed_environments"]
    assert mixed["environments"] == {"aaaaaaaaaaaa": ["a"], "bbbbbbbbbbbb": ["b"], "not recorded": ["c"]}
    assert rep["groups"][0]["metrics"]["bc5cdr_f1"]["n"] == 3  # still averaged, but said
    md = markdown(rep)
    assert "⚠ mixed environments" in md and "## Runs from different environments" in md
    assert "`aaaaaaaaaaaa`: `a`; `bbbbbbbbbbbb`: `b`; `not recorded`: `c`" in md


def test_the_report_command_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import bioner.study.report as R
    from bioner.cli import pipeline as cli

    rows = [{"rev": "abc", "name": "main", "experiments": [_rev("a", 42, 0.8, "aaaaaaaaaaaa"),
                                                            _rev("b", 1337, 0.7, "bbbbbbbbbbbb")]}]
    monkeypatch.setattr(R, "exp_show", lambda repo, all_commits=False: rows)
    assert cli.main(["report", "--out_dir", str(tmp_path / "m"), "--plots_dir", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "averaged over different environments (config_5_joint_uniform [tiny]): aaaaaaaaaaaa: a; " \
           "bbbbbbbbbbbb: b" in out
