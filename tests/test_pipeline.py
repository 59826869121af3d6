"""End to end: the DVC experiment workflow of the README in a temporary git repository.

A copy of the working tree (what `git clone` would give once committed: tracked and untracked-not-ignored files)
is committed into a fresh repository, with params.yaml shrunk to a seconds-long run (sample corpus, a very small
tiny backbone, one epoch, silver ratio 1). Then, in the README's order: two experiments, `dvc exp show`, a no-op
run, a seed-only change, `dvc plots diff`, and push / delete / pull / re-evaluate.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from bioner.cli.pipeline import RESTORE_PARAMS
from conftest import Repo

STAGES = ("validate", "fetch", "corpus", "distant_inputs", "distant", "silver", "train", "evaluate", "aggregate")
#: runs on every `dvc exp run` (always_changed): the content hashes of the files the distant settings name
STAMP = "distant_inputs"


def _ran(out: str) -> set[str]:
    return set(re.findall(r"Running stage '(\w+)'", out))


def _skipped(out: str) -> set[str]:
    return set(re.findall(r"Stage '(\w+)' didn't change, skipping", out))


@pytest.mark.slow
def test_experiment_workflow(repo: Repo) -> None:
    # -- two experiments: the first runs every stage, the second reuses fetch and silver ------------------
    out = repo.run("dvc", "exp", "run", "-S", "strategy=joint_uniform", "-S", "seed=1337")
    assert _ran(out) == set(STAGES), out
    first = repo.json("metrics/metrics.json")
    assert first["bc5cdr_f1"] > 0 and first["pubmed_f1"] > 0, first

    out = repo.run("dvc", "exp", "run", "-S", "strategy=sequential", "-S", "seed=1337")
    assert _ran(out) == {"validate", STAMP, "train", "evaluate", "aggregate"}, out
    assert _skipped(out) == {"fetch", "corpus", "distant", "silver"}, out
    assert (repo.path / "models/phase1/best_model/model.safetensors").is_file()

    # -- dvc exp show: both experiments with their params and non-empty metrics ---------------------------
    shown = json.loads(repo.run("dvc", "exp", "show", "--json", "--no-pager"))
    exps = {}
    for entry in shown:
        for exp in entry.get("experiments") or []:
            for rev in exp["revs"]:
                data = rev["data"]
                params = data["params"]["params.yaml"]["data"]
                metrics = data["metrics"]["metrics/metrics.json"]["data"]
                exps[rev["name"]] = (params, metrics)
    by_strategy = {p["strategy"]: (name, p, m) for name, (p, m) in exps.items()}
    assert set(by_strategy) == {"joint_uniform", "sequential"}, exps
    for strategy, (_, p, m) in by_strategy.items():
        assert p["seed"] == 1337 and p["backbone"] == "tiny" and p["silver"]["ratio"] == "1", p
        assert 0 < m["bc5cdr_f1"] <= 1 and 0 < m["pubmed_f1"] <= 1 and "bc5cdr_f1_Chemical" in m, (strategy, m)
    table = repo.run("dvc", "exp", "show", "--no-pager", "--md")
    assert "bc5cdr_f1" in table and "strategy" in table

    # -- nothing changed: every stage skipped --------------------------------------------------------------
    t0 = time.monotonic()
    out = repo.run("dvc", "exp", "run")
    noop_s = time.monotonic() - t0
    assert _ran(out) == {STAMP} and _skipped(out) == set(STAGES) - {STAMP}, out
    assert repo.run("dvc", "status").split() == [f"{STAMP}:", "always", "changed"]
    print(f"no-op dvc exp run: {noop_s:.1f} s")

    # -- only the seed changes: fetch, distant and silver are not re-run ------------------------------------
    out = repo.run("dvc", "exp", "run", "-S", "seed=7")
    assert _ran(out) == {"validate", STAMP, "train", "evaluate", "aggregate"}, out
    assert _skipped(out) == {"fetch", "corpus", "distant", "silver"}, out
    assert yaml.safe_load((repo.path / "metrics/config_snapshot.yaml").read_text())["seed"] == 7

    # -- relabel from the sample's dictionaries: distant and everything after it re-run, fetch does not ------
    kept = repo.json("metrics/distant.json")
    out = repo.run("dvc", "exp", "run", "-S", "seed=7", "-S", "distant.mode=relabel")
    assert _ran(out) == {"validate", STAMP, "distant", "silver", "train", "evaluate", "aggregate"}, out
    assert _skipped(out) == {"fetch", "corpus"}, out
    relabelled = repo.json("metrics/distant.json")
    assert kept["relabelled"] == 0 and relabelled["relabelled"] == 1 and relabelled["names_loaded_Gene"] > 0
    assert relabelled["silver_spans_Gene"] != kept["silver_spans_Gene"]  # no misses, every acronym tagged
    assert repo.json("metrics/metrics.json")["pubmed_f1"] > 0
    out = repo.run("dvc", "exp", "run", "-S", "seed=7", "-S", "distant.mode=relabel")  # reproduces: a no-op
    assert _ran(out) == {STAMP}, out
    # -- a dictionary outside the repo (no DVC dependency) changes, params unchanged: the stamp changes, so
    # distant re-runs; its hash is in metrics/distant.json -------------------------------------------------
    genes = repo.path.parent / "outside_genes.txt"
    genes.write_bytes((repo.path / "data/raw/dictionaries/genes.txt").read_bytes())
    gene_set = f"distant.dictionaries.Gene={genes}"
    out = repo.run("dvc", "exp", "run", "-S", "seed=7", "-S", "distant.mode=relabel", "-S", gene_set)
    assert "distant" in _ran(out), out
    before = repo.json("metrics/distant.json")["sha256_Gene"]
    genes.write_text(genes.read_text(encoding="utf-8") + "ZZZ9\n", encoding="utf-8")
    out = repo.run("dvc", "exp", "run", "-S", "seed=7", "-S", "distant.mode=relabel", "-S", gene_set)
    # distant re-runs; what follows re-runs only if the labels changed (ZZZ9 is in no sentence: they did not)
    assert "distant" in _ran(out) and "validate" not in _ran(out), out
    assert repo.json("metrics/distant.json")["sha256_Gene"] != before

    # -- dvc plots diff: training curves of two experiments overlaid, HTML written ------------------------
    a, b = by_strategy["joint_uniform"][0], by_strategy["sequential"][0]
    repo.run("dvc", "plots", "diff", a, b, "-o", "plots_html")
    html = (repo.path / "plots_html/index.html").read_text(encoding="utf-8")
    assert "Training loss" in html and "Validation F1" in html
    spec = json.loads(repo.run("dvc", "plots", "diff", a, b, "--json"))["data"]
    for title in ("Training loss", "Validation F1 (micro, BC5CDR validation)"):
        revs = {v["rev"] for v in spec[title][0]["content"]["data"]["values"]}
        assert revs == {a, b}, (title, revs)

    # -- push, lose the checkpoint and the cache, pull: it comes back and scores the same -----------------
    repo.run("dvc", "push")
    f1 = repo.json("metrics/eval/bc5cdr.json")["micro"]["f1"]
    shutil.rmtree(repo.path / "models")
    shutil.rmtree(repo.path / ".dvc/cache")
    repo.run("dvc", "pull")
    assert (repo.path / "models/best_model/model.safetensors").is_file()
    assert repo.run("dvc", "status").split() == [f"{STAMP}:", "always", "changed"]  # all else up to date
    repo.run("bioner", "evaluate", "--checkpoint", "models/best_model", "--test_set", "test_bc5cdr",
             "--output", "pulled_eval.json")
    assert repo.json("pulled_eval.json")["micro"]["f1"] == pytest.approx(f1, abs=1e-9)

    # -- a rejected -S value deletes nothing: validate, the first stage, refuses it before any stage runs ---
    repo.run("git", "add", "-A")
    repo.run("git", "commit", "-q", "-m", "results of seed 7")  # a user's last good, committed state
    weights = (repo.path / "models/best_model/model.safetensors").read_bytes()
    for bad, says in (("train.epochs=0", "train.epochs=0"), ("backbone=no-org/no-model", "backbone=tiny")):
        out = repo.run("dvc", "exp", "run", "-S", bad, check=False)
        assert _ran(out) == {"validate"} and says in out, out
        assert "-S backbone=tiny" in out or "backbone" not in bad  # the hint in `dvc exp run -S` syntax
        assert (repo.path / "models/best_model/model.safetensors").read_bytes() == weights
        assert (repo.path / "data/raw").is_dir() and (repo.path / "metrics/metrics.json").is_file()
        # the recovery line the error and the README give: DVC left the bad value in params.yaml (and git's
        # index may claim the file is unchanged, so that `git checkout params.yaml` would restore nothing)
        assert RESTORE_PARAMS in out
        repo.run("bash", "-c", RESTORE_PARAMS)
        assert repo.run("dvc", "status").split() == [f"{STAMP}:", "always", "changed"]


# ---- the aggregate stage alone (fast) ---------------------------------------------------------------------
def _eval(test_set: str, types: tuple[str, ...], f1: float, applicable: bool = True) -> dict:
    row = {"precision": f1, "recall": f1, "f1": f1, "support": 10}
    return {"test_set": test_set, "annotated_types": list(types), "applicable": applicable,
            "micro": dict(row, support=20), "per_entity": {t: dict(row) for t in types}}


def _snapshot(strategy: str) -> dict:
    return {"strategy": strategy, "backbone": "tiny", "seed": 3, "silver": {"ratio": "2"},
            "run": {"data": {"gold_sentences": 100, "silver_sentences": 200},
                    "phase1": {"best_validation_f1": 0.5, "wall_s": 1.0},
                    **({"phase2": {"best_validation_f1": 0.6, "wall_s": 2.0}} if strategy == "sequential" else {})}}


def test_aggregate_writes_flat_metrics_snapshot_and_scaling_point(tmp_path: Path) -> None:
    from bioner.cli.pipeline import main

    models, metrics, plots = tmp_path / "models", tmp_path / "metrics", tmp_path / "plots"
    models.mkdir()
    (models / "config_snapshot.yaml").write_text(yaml.safe_dump(_snapshot("sequential")))
    for name, types, f1 in (("bc5cdr", ("Chemical", "Disease"), 0.8), ("pubmed", ("Virus", "Gene"), 0.7)):
        (metrics / "eval").mkdir(parents=True, exist_ok=True)
        (metrics / "eval" / f"{name}.json").write_text(json.dumps(_eval(name, types, f1)))
    assert main(["aggregate", "--model_dir", str(models), "--metrics_dir", str(metrics),
                 "--plots_dir", str(plots)]) == 0
    m = json.loads((metrics / "metrics.json").read_text())
    assert all(not isinstance(v, (dict, list)) for v in m.values())  # flat: one column per key
    assert list(m)[:6] == ["bc5cdr_f1", "bc5cdr_f1_Chemical", "bc5cdr_f1_Disease", "pubmed_f1", "pubmed_f1_Virus",
                           "pubmed_f1_Gene"]  # the F1s lead the `dvc exp show` columns
    assert m["bc5cdr_f1"] == 0.8 and m["pubmed_precision"] == 0.7 and m["val_f1"] == 0.6  # phase 2's
    assert m["silver_sentences"] == 200 and m["bc5cdr_support_Chemical"] == 10 and "train_wall_s" not in m
    assert json.loads((metrics / "timings.json").read_text()) == {"train_wall_s": 3.0}  # kept out of metrics.json
    assert yaml.safe_load((metrics / "config_snapshot.yaml").read_text())["strategy"] == "sequential"
    point = json.loads((plots / "scaling_point.json").read_text())
    assert point == [{"config": "config_4_sequential", "strategy": "sequential", "backbone": "tiny", "seed": 3,
                      "silver_ratio": "2", "silver_sentences": 200, "gold_sentences": 100, "bc5cdr_f1": 0.8,
                      "pubmed_f1": 0.7}]


def test_aggregate_leaves_out_a_test_set_the_model_cannot_be_scored_on(tmp_path: Path) -> None:
    from bioner.study.run_metrics import flat_metrics, scaling_point

    evals = {"test_bc5cdr": _eval("test_bc5cdr", ("Chemical", "Disease"), 0.8),
             "test_pubmed": _eval("test_pubmed", ("Virus", "Gene"), 0.0, applicable=False)}
    snap = _snapshot("single_source")
    m = flat_metrics(evals, snap)
    assert not [k for k in m if k.startswith("pubmed_")] and m["bc5cdr_f1"] == 0.8 and m["silver_sentences"] == 0
    point = scaling_point(m, snap)
    assert point["pubmed_f1"] is None and point["silver_sentences"] == 0 and point["silver_ratio"] == "0"


def test_missing_inputs_give_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bioner.cli.pipeline import main

    assert main(["aggregate", "--model_dir", str(tmp_path / "models"), "--metrics_dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "config_snapshot.yaml: not found" in err and "dvc repro train" in err
