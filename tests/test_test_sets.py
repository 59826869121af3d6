"""Test sets are settings (`evaluate.test_sets`): names, files, views and types; evaluate scores every one,
aggregate writes their columns in the settings' order, the report shows each with the dictionary's F1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bioner.cli.pipeline import main
from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES, FIELD_FULL, SEED_TYPES, CheckpointTypes, TestSet, scored_test_sets
from bioner.study.run_metrics import flat_metrics


def _model() -> CheckpointTypes:
    return CheckpointTypes.from_config({"O": 0, "B-Chemical": 1, "I-Chemical": 2, "B-Disease": 3, "I-Disease": 4,
                                        "B-Virus": 5, "I-Virus": 6, "B-Gene": 7, "I-Gene": 8},
                                       SEED_TYPES.as_config())


def test_explicit_types_override_the_view_rule() -> None:
    tags = [["B-Chemical", "O", "B-Gene", "B-Virus"]]
    inferred = TestSet("t", "f.jsonl", "gold+silver")
    assert inferred.annotated_types(tags, _model()) == ("Virus", "Gene")  # gold types never on the silver view
    given = TestSet("t", "f.jsonl", "gold+silver", ("Gene", "Chemical", "Disease"))
    assert given.annotated_types(tags, _model()) == ("Chemical", "Disease", "Gene")  # the run's order


@pytest.mark.parametrize(("override", "message"), [
    ({"evaluate.test_sets": {"s1000_dev": {"file": "x.jsonl"}}}, "test set name"),
    ({"evaluate.test_sets": {}}, "at least one test set"),
    ({"evaluate.test_sets": {"covid": {"file": "x.jsonl", "types": ["Vir-us"]}}}, "invalid type name"),
    ({"evaluate.test_sets": {"covid": {"file": "x.jsonl", "view": "silver"}}}, "view"),
    ({"evaluate.test_sets": {"covid": {"types": ["Virus"]}}}, "file"),
])
def test_bad_test_sets_are_refused_in_one_line(override: dict, message: str) -> None:
    with pytest.raises(S.SettingsError, match=message) as err:
        S.load(None, override)
    assert "evaluate.test_sets" in str(err.value) and len(str(err.value).splitlines()) == 1


def test_scored_test_sets_reads_metric_keys() -> None:
    keys = ["bc5cdr_f1", "bc5cdr_f1_Chemical", "covid_f1", "val_f1", "covid_dict_f1", "pubmed_precision"]
    assert scored_test_sets(keys) == ("bc5cdr", "covid")


def _params(path: Path, test_sets: dict) -> None:
    """A complete params file with these test sets."""
    path.write_text(yaml.safe_dump(S.load(None, {"evaluate.test_sets": test_sets}).model_dump(mode="json"),
                               sort_keys=False))


def _eval(name: str, types: tuple[str, ...], f1: float) -> dict:
    row = {"precision": f1, "recall": f1, "f1": f1, "support": 10}
    return {"test_set": name, "applicable": True, "micro": row, "per_entity": dict.fromkeys(types, row)}


def test_aggregate_follows_the_settings_and_adds_dictionary_f1(tmp_path: Path) -> None:
    models, metrics = tmp_path / "models", tmp_path / "metrics"
    models.mkdir()
    (metrics / "eval").mkdir(parents=True)
    snap = {"strategy": "joint_partial", "backbone": "tiny", "seed": 1, "silver": {"ratio": "1"},
            "run": {"data": {"silver_sentences": 5, "gold_sentences": 5}}}
    (models / "config_snapshot.yaml").write_text(yaml.safe_dump(snap))
    for name, types in (("covid", ("Virus",)), ("bc5cdr", ("Chemical", "Disease"))):
        (metrics / "eval" / f"{name}.json").write_text(json.dumps(_eval(name, types, 0.5)))
    (metrics / "distant.json").write_text(json.dumps({"relabelled": 1, "covid_dict_f1": 0.4,
                                                       "covid_dict_f1_Virus": 0.4}))
    params = tmp_path / "params.yaml"
    _params(params, {"covid": {"file": "covid/c.jsonl", "types": ["Virus"]},
                     "bc5cdr": {"file": DATA_FILES["test_bc5cdr"], "view": "gold"}})
    assert main(["aggregate", "--params", str(params), "--model_dir", str(models), "--metrics_dir", str(metrics),
                 "--plots_dir", str(tmp_path / "plots")]) == 0
    m = json.loads((metrics / "metrics.json").read_text())
    assert list(m)[:4] == ["covid_f1", "covid_f1_Virus", "bc5cdr_f1", "bc5cdr_f1_Chemical"]
    assert m["covid_dict_f1"] == 0.4 and "relabelled" not in m
    point = json.loads((tmp_path / "plots/scaling_point.json").read_text())[0]
    assert point["covid_f1"] == 0.5 and point["bc5cdr_f1"] == 0.5


def test_flat_metrics_key_every_test_set_by_its_name() -> None:
    snap = {"strategy": "joint_uniform", "run": {}}
    m = flat_metrics({"s1000dev": _eval("s1000dev", ("Virus",), 0.7)}, snap)
    assert m["s1000dev_f1"] == 0.7 and m["s1000dev_support_Virus"] == 10


def test_evaluate_scores_every_test_set_of_the_settings(small_sample_dir: Path, tiny_backbone: Path,
                                                        tmp_path: Path) -> None:
    from bioner.settings.labels import CONFIG_TYPES_KEY
    from bioner.training.modeling import load_for_training, load_tokenizer

    tiny_checkpoint = tmp_path / "ckpt"
    model = load_for_training(tiny_backbone, SEED_TYPES.scheme("gold+silver").label2id)
    setattr(model.config, CONFIG_TYPES_KEY, SEED_TYPES.as_config())
    model.save_pretrained(tiny_checkpoint)
    load_tokenizer(tiny_backbone).save_pretrained(tiny_checkpoint)
    extra = tmp_path / "extra.jsonl"
    lines = (small_sample_dir / DATA_FILES["test_pubmed"]).read_text().splitlines()[:5]
    extra.write_text("\n".join(lines) + "\n")
    params = tmp_path / "params.yaml"
    _params(params, {"bc5cdr": {"file": DATA_FILES["test_bc5cdr"], "view": "gold"},
                     "viruses": {"file": str(extra), "types": ["Virus"]}})
    out = tmp_path / "eval"
    assert main(["evaluate", "--params", str(params), "--checkpoint", str(tiny_checkpoint), "--data_dir",
                 str(small_sample_dir), "--output_dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["bc5cdr.json", "viruses.json"]
    res = json.loads((out / "viruses.json").read_text())
    assert res["annotated_types"] == ["Virus"] and res["sentences"] == 5 and res["test_set"] == "viruses"
    gold = sum(t.count("B-Virus") for t in (json.loads(x)[FIELD_FULL] for x in lines))
    assert res["per_entity"]["Virus"]["support"] == gold
    assert main(["evaluate", "--params", str(params), "--checkpoint", str(tiny_checkpoint),
                 "--test_set", "nope"]) == 2


def test_a_test_set_without_a_span_of_its_types_is_refused(small_sample_dir: Path, tiny_backbone: Path,
                                                          tmp_path: Path) -> None:
    """Virus lives in decoded_tags_pseudo_final: read in the gold view every F1 would be 0 with exit 0."""
    from bioner.tagging.evaluation import evaluate
    from bioner.tagging.load import EvaluateError

    ts = TestSet("viruses", DATA_FILES["test_pubmed"], "gold", ("Virus",))
    with pytest.raises(EvaluateError, match=r"test set viruses: .* no gold span of Virus in 'decoded_tags'"):
        evaluate(tmp_path / "no_model_needed", ts, data_dir=small_sample_dir)
