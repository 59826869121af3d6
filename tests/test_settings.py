"""Typed settings (bioner.settings): validation messages, the study catalogue (bioner.settings.configs), values
derived from the strategy table, the one entry `load()` with its overrides."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
import yaml

from bioner.settings import settings as S
from bioner.settings.configs import CONFIGS, config_name, config_overrides
from bioner.settings.labels import SEED_TYPES
from bioner.settings.sections import RATIOS
from bioner.settings.strategies import STRATEGIES


def _err(params: dict) -> str:
    with pytest.raises(S.SettingsError) as exc:
        S.from_dict(params)
    return str(exc.value)


def test_defaults_validate_and_round_trip() -> None:
    s = S.Settings()
    again = S.from_dict(s.model_dump(mode="json"))
    assert again == s
    assert s.strategy in STRATEGIES and s.silver.ratio in RATIOS


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"strategy": "joint"}, ["strategy='joint'", "'single_source'", "'joint_noise_aware'"]),
        ({"silver": {"ratio": 3}}, ["silver.ratio='3'", "'1', '2', '4' or 'full'"]),
        ({"silver": {"weight": 1.5}}, ["silver.weight=1.5", ("less than or equal to 1", "<= 1")]),
        ({"train": {"epochs": 0}}, ["train.epochs=0", ("greater than 0", "> 0")]),
        ({"train": {"cpu_threads": 0}}, ["train.cpu_threads=0", "'auto' or an integer >= 1"]),
        ({"train": {"learning_rate": -1e-3}}, ["train.learning_rate=-0.001", "> 0 or 'auto'"]),
        ({"train": {"precision": "fp8"}}, ["train.precision='fp8'", "'bf16'"]),
        ({"trian": {"epochs": 1}}, ["trian=", "unknown key"]),
        ({"train": {"epoch": 1}}, ["train.epoch=1", "unknown key"]),
        ({"sources": {"silver": ["Cell-Line"]}}, ["sources.silver=['Cell-Line']", "a letter followed by letters"]),
        ({"sources": {"silver": ["Virus", "Chemical"]}}, ["sources.silver=['Virus', 'Chemical']",
                                                         "['Chemical'] already gold type(s)"]),
        ({"sources": {"gold": []}}, ["sources.gold=[]", "at least one gold entity type"]),
        ({"tiny": {"hidden_size": 30, "num_heads": 4}}, ["tiny", "divisible"]),
    ],
)
def test_validation_errors_name_key_value_and_allowed(params: dict, expected: list) -> None:
    msg = _err(params)
    assert msg.startswith("invalid settings: ") and "\n" not in msg
    for part in expected:  # a string, or a tuple of acceptable wordings
        assert any(alt in msg for alt in ((part,) if isinstance(part, str) else part)), (part, msg)


def test_union_error_is_one_entry_per_key() -> None:
    # float | 'auto': pydantic reports one error per union branch, tagged 'float' / "literal['auto']"
    msg = _err({"train": {"learning_rate": "fast"}})
    assert msg.count("train.learning_rate=") == 1
    assert "learning_rate.float" not in msg and "literal[" not in msg
    assert "valid number" in msg and "'auto'" in msg


def test_ratio_accepts_int_and_string() -> None:
    assert S.from_dict({"silver": {"ratio": 2}}).silver.ratio == "2"
    assert S.from_dict({"silver": {"ratio": "full"}}).silver.ratio == "full"
    with pytest.raises(S.SettingsError):
        S.from_dict({"silver": {"ratio": True}})


def test_learning_rate_auto_resolution() -> None:
    tiny = S.from_dict({"backbone": "tiny"})
    bert = S.from_dict({"backbone": "pubmedbert"})
    path = S.from_dict({"backbone": "/some/local/model"})
    assert tiny.learning_rate == pytest.approx(2e-3)
    assert bert.learning_rate == pytest.approx(2e-5) and path.learning_rate == pytest.approx(2e-5)
    assert bert.phase2_learning_rate == pytest.approx(1e-5)  # the seed's phase 2 lr: half of phase 1
    explicit = S.from_dict({"backbone": "tiny", "train": {"learning_rate": 5e-4, "phase2": {"learning_rate": 1e-4}}})
    assert explicit.learning_rate == pytest.approx(5e-4) and explicit.phase2_learning_rate == pytest.approx(1e-4)
    custom_auto = S.from_dict({"backbone": "biobert", "train": {"auto_lr_pretrained": 3e-5}})
    assert custom_auto.learning_rate == pytest.approx(3e-5)


def test_derived_values_per_strategy() -> None:
    assert get_args(S.Settings.model_fields["strategy"].annotation) == tuple(STRATEGIES)  # the schema's are the table's
    single = S.from_dict({"strategy": "single_source"})
    assert single.scheme == SEED_TYPES.scheme("gold") and not single.uses_silver
    assert single.resolved()["resolved"]["silver_example_weight"] is None
    for strategy in ("sequential", "joint_uniform", "joint_noise_aware", "joint_partial"):
        s = S.from_dict({"strategy": strategy, "silver": {"weight": 0.25}})
        assert s.scheme == SEED_TYPES.scheme("gold+silver") and s.uses_silver
        assert s.silver_weight == (0.25 if strategy == "joint_noise_aware" else 1.0)
        assert (s.resolved()["resolved"]["phase2_learning_rate"] is None) == (strategy != "sequential")
    assert S.from_dict({"backbone": "biobert"}).model_id == "dmis-lab/biobert-base-cased-v1.2"
    assert S.from_dict({"backbone": "org/any-model"}).model_id == "org/any-model"


def test_resolved_snapshot() -> None:
    s = S.from_dict({"strategy": "sequential", "backbone": "tiny",
                     "train": {"batch_size": 8, "gradient_accumulation_steps": 2}})
    snap = s.resolved()
    assert snap["strategy"] == "sequential" and snap["train"]["batch_size"] == 8
    r = snap["resolved"]
    assert r["label_scheme"] == "9tag" and r["labels"][0] == "O" and len(r["labels"]) == 9
    assert r["learning_rate"] == pytest.approx(2e-3) and r["phase2_learning_rate"] == pytest.approx(1e-3)
    assert r["effective_batch_size"] == 16 and r["silver_example_weight"] == 1.0
    yaml.safe_dump(snap)  # serialisable as config_snapshot.yaml


def test_config_overrides() -> None:
    assert config_overrides("config_6_joint_noise_aware") == {"strategy": "joint_noise_aware", "backbone": "pubmedbert"}
    assert config_overrides("config_2_biobert") == {"strategy": "single_source", "backbone": "biobert"}
    with pytest.raises(S.SettingsError, match="allowed: config_1_bert_base, "):
        config_overrides("config_7")
    assert len(CONFIGS) == 6 and all(strategy in STRATEGIES for strategy, _ in CONFIGS.values())


def test_config_name() -> None:
    assert config_name("single_source", "biobert") == "config_2_biobert"
    assert config_name("joint_uniform", "tiny") == "config_5_joint_uniform"
    assert config_name("sequential", "pubmedbert") == "config_4_sequential"
    assert config_name("single_source", "org/model") == "single_source_org_model"
    assert config_name("joint_partial", "tiny") == "joint_partial"


def test_set_dotted() -> None:
    params: dict = {"train": {"epochs": 3}}
    S.set_dotted(params, "train.epochs", 1)
    S.set_dotted(params, "train.phase2.learning_rate", 1e-4)
    S.set_dotted(params, "seed", 7)
    assert params == {"train": {"epochs": 1, "phase2": {"learning_rate": 1e-4}}, "seed": 7}
    s = S.from_dict(params)
    assert s.train.epochs == 1 and s.train.phase2.learning_rate == 1e-4 and s.seed == 7
    with pytest.raises(S.SettingsError, match=r"seed\.x=1: seed is a value"):
        S.set_dotted(params, "seed.x", 1)


def test_load_file_with_overrides(tmp_path: Path) -> None:
    p = tmp_path / "params.yaml"
    p.write_text("strategy: sequential\nseed: 3\ntrain:\n  epochs: 2\n")
    s = S.load(p, {"train.epochs": 0.5, "silver.ratio": 4}, require_all=False)
    assert (s.strategy, s.seed, s.train.epochs, s.silver.ratio) == ("sequential", 3, 0.5, "4")
    # overrides apply in order (a config, then flags, then -s), so the last value of a key wins
    s = S.load(p, [("strategy", "single_source"), ("seed", 5), ("strategy", "joint_partial")], require_all=False)
    assert (s.strategy, s.seed) == ("joint_partial", 5)
    # every schema key must be listed, reported after the bad values
    with pytest.raises(S.SettingsError, match=r"params.yaml: missing key\(s\) backbone, data.source"):
        S.load(p)
    with pytest.raises(S.SettingsError, match="train.epochs=0"):
        S.load(p, {"train.epochs": 0})
    # no file: the schema defaults (what the demo runs on)
    assert S.load(None, {"seed": 9}) == S.Settings(seed=9)
    assert S.parse_override("silver.ratio=4") == ("silver.ratio", 4)
    assert S.parse_override(" train.group_by_length=false") == ("train.group_by_length", False)
    with pytest.raises(S.SettingsError, match="expected KEY=VALUE"):
        S.parse_override("seed")


def test_flatten() -> None:
    assert S.flatten({"a": 1, "b": {"c": 2, "d": {"e": [3]}}}) == {"a": 1, "b.c": 2, "b.d.e": [3]}


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(S.SettingsError, match="params file not found"):
        S.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategy: [unclosed\n")
    with pytest.raises(S.SettingsError, match="not valid YAML"):
        S.load(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(S.SettingsError, match="top level must be a mapping"):
        S.load(lst)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("seed: 1\ntrain:\n  batch_size: 0\n")
    with pytest.raises(S.SettingsError) as exc:
        S.load(wrong)
    assert str(exc.value).startswith(f"{wrong}: invalid settings: train.batch_size=0")


def test_entity_types_come_from_the_settings() -> None:
    """A fifth type is one list entry: the label space, the partial-label sources and the snapshot follow."""
    s = S.load(None, [S.parse_override("sources.silver=[Virus, Gene, Species]")])
    assert s.entity_types.silver == ("Virus", "Gene", "Species")
    assert s.scheme.labels[9:] == ["B-Species", "I-Species"] and s.scheme.name == "11tag"
    assert s.scheme.labels[:9] == S.Settings().scheme.labels  # the seed's ids unchanged
    r = s.resolved()["resolved"]
    assert (r["label_view"], r["label_scheme"], len(r["labels"])) == ("gold+silver", "11tag", 11)
    single = S.load(None, {"strategy": "single_source", "sources.silver": ["Virus", "Gene", "Species"]})
    assert single.scheme == SEED_TYPES.scheme("gold") and single.resolved()["resolved"]["label_view"] == "gold"


def test_relabel_dictionaries_must_name_the_silver_types() -> None:
    """With distant.mode=relabel the dictionaries produce the silver labels: same types as sources.silver."""
    three = {"Virus": "v.txt", "Gene": "g.txt", "Species": "s.txt"}
    with pytest.raises(S.SettingsError) as err:
        S.load(None, {"distant.mode": "relabel", "distant.dictionaries": three})
    assert str(err.value) == ("invalid settings: distant.dictionaries types ['Virus', 'Gene', 'Species'] and "
                              "sources.silver ['Virus', 'Gene'] disagree: no sources.silver entry for ['Species']; "
                              "list each silver type in both")
    with pytest.raises(S.SettingsError, match=r"no dictionary for \['Species'\]"):
        S.load(None, {"distant.mode": "relabel", "sources.silver": ["Virus", "Gene", "Species"]})
    ok = S.load(None, {"distant.mode": "relabel", "distant.dictionaries": {**three, "Virus": "v.txt"},
                       "sources.silver": ["Gene", "Species", "Virus"]})  # any order: ids follow sources.silver
    assert ok.entity_types.silver == ("Gene", "Species", "Virus") and ok.scheme.labels[5] == "B-Gene"
    # keep mode: the dictionaries are not the labels, no agreement needed; a gold type is refused in any mode
    assert S.load(None, {"distant.dictionaries": three}).entity_types.silver == ("Virus", "Gene")
    with pytest.raises(S.SettingsError, match=r"^invalid settings: distant.dictionaries: type\(s\) \['disease'\] "
                                              r"are gold types"):
        S.load(None, {"distant.dictionaries": {"disease": "d.txt"}})

