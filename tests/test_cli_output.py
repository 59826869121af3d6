"""What the command line prints: `bioner --help` speaks to users (no module names), and `bioner aggregate`
prints counts as integers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bioner.cli.pipeline import main


def test_top_level_help_names_no_module(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "cli_args" not in out and "flags:" not in out
    assert "bioner COMMAND --help" in out


def _eval(test_set: str, types: tuple[str, ...], f1: float) -> dict:
    row = {"precision": f1, "recall": f1, "f1": f1, "support": 10}
    return {"test_set": test_set, "annotated_types": list(types), "applicable": True,
            "micro": dict(row, support=20), "per_entity": {t: dict(row) for t in types}}


def test_aggregate_prints_counts_as_integers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models, metrics = tmp_path / "models", tmp_path / "metrics"
    models.mkdir()
    metrics.mkdir()
    snap = {"strategy": "joint_uniform", "backbone": "tiny", "seed": 3, "silver": {"ratio": "full"},
            "run": {"data": {"gold_sentences": 100, "silver_sentences": 4000}, "cpu_threads": 1,
                    "phase1": {"best_validation_f1": 0.5, "wall_s": 1.25}}}
    (models / "config_snapshot.yaml").write_text(yaml.safe_dump(snap))
    (metrics / "eval").mkdir(parents=True, exist_ok=True)
    for name, types in (("bc5cdr", ("Chemical", "Disease")), ("pubmed", ("Virus", "Gene"))):
        (metrics / "eval" / f"{name}.json").write_text(json.dumps(_eval(name, types, 0.8)))
    assert main(["aggregate", "--model_dir", str(models), "--metrics_dir", str(metrics),
                 "--plots_dir", str(tmp_path / "plots")]) == 0
    lines = {ln.split()[0]: ln.split()[1] for ln in capsys.readouterr().out.splitlines() if ln.startswith("  ")}
    assert lines["silver_sentences"] == "4000" and lines["bc5cdr_support_Chemical"] == "10"
    assert lines["train_threads"] == "1" and lines["bc5cdr_f1"] == "0.8000" and lines["train_wall_s"] == "1.2000"
