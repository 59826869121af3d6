"""A fifth entity type end to end with no code change: a sample variant with Species mentions and a
species dictionary; `sources.silver: [Virus, Gene, Species]` and a `Species` dictionary -> distant (relabel) ->
train -> evaluate -> predict -> aggregate -> report.

Every command runs through the CLI in a directory without params.yaml (distant, train: the schema defaults plus
`-s` overrides; evaluate and predict read nothing but the checkpoint and their inputs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bioner.cli.pipeline import main
from bioner.data.sample import write_sample_corpus
from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES, FIELD_FULL
from bioner.study.groups import build_report, parse_experiments
from bioner.study.render import markdown

SIZES = {"train": 200, "validation": 60, "test_bc5cdr": 40, "silver": 400, "test_pubmed": 60}
SMALL = ["--backbone", "tiny", "--epochs", "3", "-s", "train.max_length=64", "-s", "train.cpu_threads=1",
         "-s", "tiny.vocab_size=1000", "-s", "tiny.hidden_size=64", "-s", "tiny.num_layers=1",
         "-s", "tiny.num_heads=2", "-s", "tiny.intermediate_size=128"]
TYPES = "sources.silver=[Virus, Gene, Species]"
DICTIONARIES = ("distant.dictionaries={Virus: dictionaries/viruses.txt, Gene: dictionaries/genes.txt, "
                "Species: dictionaries/species.txt}")


def _spans(tags: list[str], etype: str) -> set[tuple[int, int]]:
    """(start, inclusive end) of each `etype` span of valid IOB2 tags."""
    out, i = set(), 0
    while i < len(tags):
        if tags[i] == f"B-{etype}":
            j = i
            while j + 1 < len(tags) and tags[j + 1] == f"I-{etype}":
                j += 1
            out.add((i, j))
            i = j + 1
        else:
            i += 1
    return out


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("species") / "raw"
    write_sample_corpus(raw, sizes=SIZES, extra_types=("Species",))
    return raw


def test_the_run_refuses_data_with_a_type_its_settings_do_not_list(
        variant: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    rc, _, err = _cli(capsys, "train", *SMALL, "--data_dir", str(variant), "--silver_dir", "none",
                      "--output_dir", "models", "--work_dir", "work")
    assert rc == 2 and not (tmp_path / "models").exists()
    line = err.strip()
    assert "\n" not in line and f"{variant / DATA_FILES['train']}:" in line
    assert "'B-Species'" in line and "not in the 9-label space of 'decoded_tags_pseudo_final' (the run's types: " \
        "sources.gold + sources.silver)" in line, line


@pytest.mark.slow
def test_a_fifth_type_end_to_end(variant: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "params.yaml").exists()
    # -- distant: the silver labels of all three silver types recomputed from their dictionaries ----------------
    relabel = ["-s", "distant.mode=relabel", "-s", DICTIONARIES, "-s", TYPES]
    rc, out, err = _cli(capsys, "distant", *relabel, "--data_dir", str(variant), "--out", "labelled",
                        "--metrics", "metrics/distant.json", "--report", "metrics/distant_report.json")
    assert rc == 0, err
    distant = json.loads((tmp_path / "metrics/distant.json").read_text())
    assert distant["relabelled"] == 1 and distant["silver_spans_Species"] > 50 and distant["names_loaded_Species"] > 0
    data = tmp_path / "labelled"
    # -- train: the label space follows the settings; Species takes ids 9 and 10 --------------------------------
    rc, out, err = _cli(capsys, "train", *SMALL, *relabel, "--data_dir", str(data), "--silver_dir", "none",
                        "--output_dir", "models", "--work_dir", "work", "--live_dir", "live")
    assert rc == 0, err
    config = json.loads((tmp_path / "models/best_model/config.json").read_text())
    assert config["id2label"]["9"] == "B-Species" and config["id2label"]["10"] == "I-Species"
    assert config["label2id"] == S.load(None, [S.parse_override(TYPES)]).scheme.label2id
    assert [config["id2label"][str(i)] for i in range(9)] == S.Settings().scheme.labels  # the seed's ids kept
    assert config["bioner_entity_types"] == {"gold": ["Chemical", "Disease"], "silver": ["Virus", "Gene", "Species"]}
    # dvclive: per-entity validation curves for the new type, like the others
    for metric in ("f1", "precision", "recall"):
        assert (tmp_path / f"live/plots/metrics/eval/{metric}_Species.tsv").is_file()

    # -- evaluate: the PubMed test scores the silver types it annotates, Species included ----------------------
    rc, out, err = _cli(capsys, "evaluate", "--checkpoint", "models/best_model", "--data_dir", str(data),
                        "--test_set", "test_bc5cdr", "--test_set", "test_pubmed", "--output_dir", "metrics/eval")
    assert rc == 0, err
    pubmed = json.loads((tmp_path / "metrics/eval/pubmed.json").read_text())
    bc5cdr = json.loads((tmp_path / "metrics/eval/bc5cdr.json").read_text())
    assert pubmed["annotated_types"] == ["Virus", "Gene", "Species"] and pubmed["applicable"]
    assert bc5cdr["annotated_types"] == ["Chemical", "Disease"]  # Species is no gold type: never scored here
    test_file = data / DATA_FILES["test_pubmed"]  # copied unchanged by distant: gold
    gold = [json.loads(line)[FIELD_FULL] for line in test_file.read_text().splitlines()]
    gold_species = [_spans(tags, "Species") for tags in gold]
    assert pubmed["per_entity"]["Species"]["support"] == sum(map(len, gold_species)) > 10
    assert "Species" in out and "types Virus, Gene, Species" in out

    # -- predict: Species spans, and their F1 against the test file is the F1 evaluate reported ----------------
    rc, out, err = _cli(capsys, "predict", "--checkpoint", "models/best_model", "--input", str(test_file),
                        "--output", "pred.jsonl")
    assert rc == 0, err
    rows = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    pred_species = [{(p["start_token"], p["end_token"]) for p in r["predictions"] if p["type"] == "Species"}
                    for r in rows]
    hits = sum(len(g & p) for g, p in zip(gold_species, pred_species, strict=True))
    n_pred, n_gold = sum(map(len, pred_species)), sum(map(len, gold_species))
    assert n_pred > 0 and hits > 0, "the model learned no Species at all"
    precision, recall = hits / n_pred, hits / n_gold
    row = pubmed["per_entity"]["Species"]
    assert (row["precision"], row["recall"]) == pytest.approx((precision, recall))
    assert row["f1"] == pytest.approx(2 * precision * recall / (precision + recall))

    # -- aggregate: `dvc exp show` columns for the new type -----------------------------------------------------
    rc, out, err = _cli(capsys, "aggregate", "--model_dir", "models", "--metrics_dir", "metrics",
                        "--plots_dir", "plots")
    assert rc == 0, err
    metrics = json.loads((tmp_path / "metrics/metrics.json").read_text())
    assert metrics["pubmed_f1_Species"] == pytest.approx(row["f1"], abs=1e-4)
    for key in ("precision", "recall", "support"):
        assert f"pubmed_{key}_Species" in metrics
    assert not any("Species" in k for k in metrics if k.startswith("bc5cdr"))

    # -- report: a Species column for the PubMed test, mean +- std over two seeds -------------------------------
    params = S.load(None, [S.parse_override(o) for o in relabel[1::2]]).model_dump(mode="json")
    exps = [{"revs": [{"rev": f"r{seed}", "name": f"exp-{seed}", "error": None, "experiments": None, "data": {
        "params": {"params.yaml": {"data": {**params, "seed": seed}}},
        "metrics": {"metrics/metrics.json": {"data": metrics}}}}], "executor": None, "name": f"exp-{seed}"}
        for seed in (1, 2)]
    report = build_report(parse_experiments([{"rev": "abc", "name": "main", "experiments": exps}]))
    assert report["entity_types"] == {"bc5cdr": ["Chemical", "Disease"], "pubmed": ["Virus", "Gene", "Species"]}
    (group,) = report["groups"]
    assert group["metrics"]["pubmed_f1_Species"]["mean"] == metrics["pubmed_f1_Species"]
    md = markdown(report, min_support=1)
    assert "## Pubmed test (Virus, Gene, Species)" in md and "| Species P | Species R | Species F1 |" in md
    assert f"{metrics['pubmed_f1_Species']:.3f} ± 0.000" in md


def test_dvc_plots_draw_a_new_types_validation_curves_without_a_dvc_yaml_edit(tmp_path: Path) -> None:
    """dvc.yaml's directory plot of the validation metrics picks up f1/precision/recall_<Type>.tsv of any type."""
    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "dvc.yaml", tmp_path / "dvc.yaml")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1",
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}  # dvc of this venv
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    subprocess.run(["dvc", "init", "-q"], cwd=tmp_path, check=True, env=env)
    eval_dir = tmp_path / "metrics/training/plots/metrics/eval"
    eval_dir.mkdir(parents=True)
    for name in ("f1", "f1_Chemical", "f1_Species", "recall_Species"):
        (eval_dir / f"{name}.tsv").write_text(f"timestamp\tstep\t{name}\n1\t10\t0.5\n2\t20\t0.6\n")
    proc = subprocess.run(["dvc", "plots", "show", "--json"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, check=True)
    plots = json.loads(proc.stdout)["data"]
    for name in ("f1_Species", "recall_Species"):
        (plot,) = plots[f"metrics/training/plots/metrics/eval/{name}.tsv"]
        assert [v[name] for v in plot["content"]["data"]["values"]] == ["0.5", "0.6"]
