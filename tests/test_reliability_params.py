"""Reliability: bad or missing params: one line naming the setting, before any training.

Every case drives the real command line and asserts the exact outcome (docs/reliability.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.settings.sections import TinySettings
from reliability_helpers import copy_data, files_under, one_error_line, run_cli, write_full_params

#: case -> (extra argv for `bioner train`, params keys to drop, phrases the one-line error must contain)
PARAM_CASES: dict[str, tuple[list[str], tuple[str, ...], list[str]]] = {
    "unknown_strategy": (["-s", "strategy=joint_magic"], (), [
        "strategy='joint_magic'", "not allowed", "'single_source'", "'joint_partial'"]),
    "unknown_backbone_alias": (["--backbone", "pubmedbert-xl"], (), [
        "backbone 'pubmedbert-xl'", "not an alias (bert-base, biobert, pubmedbert, tiny, minilm)",
        "HF_HUB_OFFLINE=1", "Offline alternatives: --backbone tiny", "--backbone minilm", "local model directory"]),
    "backbone_missing_local_path": (["--backbone", "./no/such/model"], (), [
        "backbone './no/such/model'", "not an alias", "not an existing local directory", "--backbone tiny"]),
    "backbone_alias_not_cached_offline": (["--backbone", "pubmedbert"], (), [
        "backbone 'pubmedbert' (Hub model 'microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext')",
        "HF_HUB_OFFLINE=1", "--backbone tiny"]),
    "ratio_larger_than_silver": (["--strategy", "joint_uniform", "-s", "silver.ratio=4"], (), [
        "silver.ratio='4'", "needs 480 silver sentences (4 x 120 gold)", "the silver corpus has 240",
        "allowed here: 1, 2, full"]),
    "ratio_not_a_ratio": (["-s", "silver.ratio=3"], (), [
        "silver.ratio='3'", "not allowed", "'1', '2', '4' or 'full'"]),
    "epochs_zero": (["--epochs", "0"], (), ["train.epochs=0.0", "Input should be greater than 0"]),
    "epochs_negative": (["-s", "train.epochs=-2"], (), ["train.epochs=-2", "greater than 0"]),
    "phase2_epochs_zero": (["-s", "train.phase2.epochs=0"], (), ["train.phase2.epochs=0", "greater than 0"]),
    "batch_size_zero": (["--batch_size", "0"], (), ["train.batch_size=0", "greater than or equal to 1"]),
    "batch_size_negative": (["-s", "train.batch_size=-16"], (), ["train.batch_size=-16", "greater than or equal to 1"]),
    "learning_rate_zero": (["--learning_rate", "0"], (), ["train.learning_rate=0.0", "must be > 0 or 'auto'"]),
    "learning_rate_negative": (["-s", "train.learning_rate=-0.001"], (), [
        "train.learning_rate=-0.001", "must be > 0 or 'auto'"]),
    "silver_weight_zero": (["-s", "silver.weight=0"], (), [
        "silver.weight=0", "greater than 0; allowed: > 0.0 and <= 1.0"]),
    "silver_weight_above_one": (["-s", "silver.weight=1.5"], (), [
        "silver.weight=1.5", "less than or equal to 1; allowed: > 0.0 and <= 1.0"]),
    "cpu_threads_zero": (["-s", "train.cpu_threads=0"], (), [
        "train.cpu_threads=0", "allowed: 'auto' or an integer >= 1"]),
    "cpu_threads_negative": (["-s", "train.cpu_threads=-4"], (), [
        "train.cpu_threads=-4", "allowed: 'auto' or an integer >= 1"]),
    "type_name_not_a_label_fragment": (["-s", "sources.silver=[Virus, Cell-Line]"], (), [
        "sources.silver=['Virus', 'Cell-Line']", "invalid type name(s) ['Cell-Line']",
        "a letter followed by letters or digits"]),
    "silver_type_clashes_with_gold": (["-s", "sources.silver=[Virus, disease]"], (), [
        "sources.silver=['Virus', 'disease']", "['disease'] already gold type(s) (sources.gold = ['Chemical', "]),
    "type_listed_twice": (["-s", "sources.silver=[Gene, Virus, Gene]"], (), [
        "sources.silver=['Gene', 'Virus', 'Gene']", "type 'Gene' is listed twice"]),
    "unknown_key_typo": (["-s", "train.epoch=2"], (), [
        "train.epoch=2", "unknown key", "allowed keys here: epochs, batch_size"]),
    "missing_key_train_epochs": ([], ("train.epochs",), [
        "params.yaml: missing key(s) train.epochs;", "Add e.g. train.epochs: 3.0"]),
    "missing_key_seed": ([], ("seed",), ["params.yaml: missing key(s) seed;", "seed: 42"]),
    "missing_section_tiny": ([], ("tiny",), [
        "missing key(s) tiny.vocab_size, tiny.hidden_size, tiny.num_layers, tiny.num_heads, tiny.intermediate_size",
        f"(and {len(TinySettings.model_fields) - 3} more)"]),  # the message lists the first 3 defaults
}


@pytest.mark.parametrize("case", list(PARAM_CASES))
def test_bad_params_fail_before_training(case: str, sandbox: Path, small_sample_dir: Path,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import bioner.training.modeling
    import bioner.training.run

    extra, drop, phrases = PARAM_CASES[case]
    if drop:
        write_full_params(sandbox / "params.yaml", drop=drop)
    raw = copy_data(small_sample_dir, sandbox / "raw")

    def started(*_a: object, **_k: object) -> None:
        raise AssertionError("training started despite invalid settings")

    for name in ("build_tiny", "load_tokenizer", "load_for_training"):
        monkeypatch.setattr(bioner.training.modeling, name, started)
    if case != "ratio_larger_than_silver":  # the only check that needs the corpus sizes
        monkeypatch.setattr(bioner.training.run, "load_training_corpora", started)
    before = files_under(sandbox)

    rc, _, err = run_cli(capsys, "train", "--data_dir", raw, "--output_dir", sandbox / "models",
                         "--silver_dir", sandbox / "silver", "--live_dir", sandbox / "live", *extra)

    assert rc == 2
    msg = one_error_line(err, "train")
    for phrase in phrases:
        assert phrase in msg
    assert files_under(sandbox) == before
    assert not (sandbox / "models").exists() and not (sandbox / ".models_work").exists()


def test_missing_params_file_named(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(capsys, "train", "--params", sandbox / "nope.yaml")
    assert rc == 2 and f"{sandbox / 'nope.yaml'}: params file not found" in one_error_line(err, "train")


def test_params_file_not_yaml(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (sandbox / "params.yaml").write_text("strategy: [joint_uniform\nseed: 1\n")
    rc, _, err = run_cli(capsys, "silver")
    assert rc == 2 and "params.yaml: not valid YAML" in one_error_line(err, "silver")
