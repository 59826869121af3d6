"""Scoring a checkpoint (bioner.evaluation): gold view per test set, only its annotated types, JSON output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bioner import evaluation
from bioner.corpus import CorpusError, load_corpus
from bioner.inference import WordPrediction
from bioner.labels import CONFIG_TYPES_KEY, DATA_FILES, FIELD_FULL, FIELD_GOLD, SEED_TYPES
from bioner.modeling import load_for_training, load_tokenizer

L9 = SEED_TYPES.scheme("gold+silver").label2id
L5 = SEED_TYPES.scheme("gold").label2id


def _checkpoint(backbone: Path, dest: Path, label2id: dict[str, int], run_types: dict | None = None) -> Path:
    """A checkpoint with `label2id`; `run_types` as `bioner train` records them (config.json), or none."""
    model = load_for_training(backbone, label2id)
    if run_types is not None:
        setattr(model.config, CONFIG_TYPES_KEY, run_types)
    model.save_pretrained(dest)
    load_tokenizer(backbone).save_pretrained(dest)
    return dest


def _spans(tags: list[list[str]], types: tuple[str, ...]) -> int:
    return sum(t.startswith("B-") and t[2:] in types for seq in tags for t in seq)


def test_evaluate_real_checkpoint_layout(tmp_path: Path, tiny_backbone: Path, small_sample_dir: Path) -> None:
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", L9)
    out = tmp_path / "metrics" / "eval_test_pubmed.json"
    res = evaluation.evaluate(ckpt, "test_pubmed", data_dir=small_sample_dir, output=out)
    gold = load_corpus(small_sample_dir / DATA_FILES["test_pubmed"], FIELD_FULL)
    assert json.loads(out.read_text()) == res
    assert res["test_set"] == "test_pubmed" and res["sentences"] == len(gold) == 40
    assert res["annotated_types"] == ["Virus", "Gene"] and res["applicable"] is True
    assert set(res["per_entity"]) == {"Virus", "Gene"}
    for t in ("Virus", "Gene"):
        assert res["per_entity"][t]["support"] == _spans(gold.tags, (t,)) > 0
        assert set(res["per_entity"][t]) == {"precision", "recall", "f1", "support"}
    assert res["micro"]["support"] == _spans(gold.tags, ("Virus", "Gene"))
    for row in [res["micro"], *res["per_entity"].values()]:
        assert all(0.0 <= row[k] <= 1.0 for k in ("precision", "recall", "f1"))


def test_bc5cdr_scored_on_gold_5tag_view(tmp_path: Path, tiny_backbone: Path, small_sample_dir: Path) -> None:
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", L5)
    res = evaluation.evaluate(ckpt, "test_bc5cdr", data_dir=small_sample_dir)
    gold = load_corpus(small_sample_dir / DATA_FILES["test_bc5cdr"], FIELD_GOLD)
    assert set(res["per_entity"]) == {"Chemical", "Disease"}
    assert res["micro"]["support"] == _spans(gold.tags, ("Chemical", "Disease"))


def _fake_tagger(monkeypatch: pytest.MonkeyPatch, predictions: list[list[str]]) -> None:
    def fake_tag_words(sentences, tokenizer, model, **kw):
        assert len(sentences) == len(predictions)
        for words, labels in zip(sentences, predictions, strict=True):
            assert len(words) == len(labels)
            yield WordPrediction(labels, [1.0] * len(labels))

    monkeypatch.setattr(evaluation, "tag_words", fake_tag_words)


def _write_test(data_dir: Path, rel: str, records: list[dict]) -> None:
    p = data_dir / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(r) + "\n" for r in records))


TOKENS = ["cisplatin", "activates", "TP53", "in", "hepatitis", "."]


def test_pubmed_correct_chemical_is_not_a_false_positive(
        tmp_path: Path, tiny_backbone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The PubMed test annotates Gene/Virus only: the chemical and the disease are O in its gold view.
    _write_test(tmp_path, DATA_FILES["test_pubmed"], [
        {"tokens": TOKENS, "decoded_tags": ["O"] * 6,
         FIELD_FULL: ["O", "O", "B-Gene", "O", "O", "O"]}])
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", L9)
    _fake_tagger(monkeypatch, [["B-Chemical", "O", "B-Gene", "O", "B-Disease", "O"]])
    res = evaluation.evaluate(ckpt, "test_pubmed", data_dir=tmp_path)
    assert res["micro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert "Chemical" not in res["per_entity"]
    # a wrong Gene span is still an error
    _fake_tagger(monkeypatch, [["B-Chemical", "B-Gene", "O", "O", "O", "O"]])
    res = evaluation.evaluate(ckpt, "test_pubmed", data_dir=tmp_path)
    assert res["micro"]["precision"] == 0.0 and res["micro"]["recall"] == 0.0


def test_bc5cdr_gene_prediction_is_not_a_false_positive(
        tmp_path: Path, tiny_backbone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # BC5CDR's gold view (decoded_tags) annotates Chemical/Disease; a predicted Gene must not count.
    _write_test(tmp_path, DATA_FILES["test_bc5cdr"], [
        {"tokens": TOKENS, "decoded_tags": ["B-Chemical", "O", "O", "O", "B-Disease", "O"],
         FIELD_FULL: ["B-Chemical", "O", "B-Gene", "O", "B-Disease", "O"]}])
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", L9)
    _fake_tagger(monkeypatch, [["B-Chemical", "O", "B-Gene", "O", "O", "O"]])
    res = evaluation.evaluate(ckpt, "test_bc5cdr", data_dir=tmp_path)
    assert res["micro"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    assert res["per_entity"]["Disease"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_model_without_the_test_types_warns(tmp_path: Path, tiny_backbone: Path, small_sample_dir: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", L5, SEED_TYPES.as_config())  # a gold-view model
    with caplog.at_level(logging.WARNING, logger="bioner.evaluation"):
        res = evaluation.evaluate(ckpt, "test_pubmed", data_dir=small_sample_dir)
    assert res["micro"]["f1"] == 0.0 and res["applicable"] is False
    assert any("does not predict ['Virus', 'Gene']" in r.getMessage() for r in caplog.records)


def test_unknown_test_set(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="allowed: test_bc5cdr, test_pubmed"):
        evaluation.evaluate(tmp_path, "test_other", data_dir=tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# the scored types follow the test file and the checkpoint's recorded run types, not a table
def test_scored_types_follow_the_file_and_the_checkpoint(tmp_path: Path, tiny_backbone: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    run = {"gold": ["Chemical", "Disease"], "silver": ["Virus", "Gene", "Species"]}
    eleven = {**L9, "B-Species": 9, "I-Species": 10}
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", eleven, run)
    tags = ["B-Chemical", "O", "B-Gene", "O", "B-Species", "O"]
    _write_test(tmp_path, DATA_FILES["test_pubmed"], [{"tokens": TOKENS, "decoded_tags": ["O"] * 6,
                                                       FIELD_FULL: tags}])
    _fake_tagger(monkeypatch, [["B-Chemical", "O", "B-Gene", "O", "O", "O"]])
    res = evaluation.evaluate(ckpt, "test_pubmed", data_dir=tmp_path)
    # the run's gold type Chemical is never scored on the PubMed test; Virus is not in this file
    assert res["annotated_types"] == ["Gene", "Species"] and res["applicable"] is True
    assert res["per_entity"]["Species"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert res["micro"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})


def test_a_type_the_run_never_had_is_an_error(tmp_path: Path, tiny_backbone: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", L9, SEED_TYPES.as_config())
    _write_test(tmp_path, DATA_FILES["test_bc5cdr"], [
        {"tokens": TOKENS, "decoded_tags": ["B-Chemical"] + ["O"] * 5, FIELD_FULL: ["B-Chemical"] + ["O"] * 5},
        {"tokens": TOKENS, "decoded_tags": ["O", "O", "B-Gene", "O", "O", "O"], FIELD_FULL: ["O"] * 6}])
    _fake_tagger(monkeypatch, [["O"] * 6] * 2)
    with pytest.raises(CorpusError) as err:  # Gene is a silver type: not gold in the gold view
        evaluation.evaluate(ckpt, "test_bc5cdr", data_dir=tmp_path)
    assert str(err.value).startswith(f"{tmp_path / DATA_FILES['test_bc5cdr']}:2: label(s) ['B-Gene'] not in the "
                                     "5-label space of 'decoded_tags' (the types the checkpoint was trained with)")
    _write_test(tmp_path, DATA_FILES["test_pubmed"], [
        {"tokens": TOKENS, "decoded_tags": ["O"] * 6, FIELD_FULL: ["O", "O", "B-Protein", "O", "O", "O"]}])
    _fake_tagger(monkeypatch, [["O"] * 6])
    with pytest.raises(CorpusError, match=r":1: label\(s\) \['B-Protein'\] not in the 9-label space"):
        evaluation.evaluate(ckpt, "test_pubmed", data_dir=tmp_path)
