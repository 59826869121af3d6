"""Scoring a checkpoint (bioner.tagging.evaluation): gold view per test set, only its annotated types, JSON output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import conlleval
import pytest

from bioner.data.corpus import CorpusError, load_corpus
from bioner.settings.labels import CONFIG_TYPES_KEY, DATA_FILES, FIELD_FULL, FIELD_GOLD, SEED_TYPES
from bioner.tagging import evaluation, scoring
from bioner.tagging.inference import WordPrediction
from bioner.training.modeling import load_for_training, load_tokenizer

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
    out = tmp_path / "metrics" / "eval" / "pubmed.json"
    res = evaluation.evaluate(ckpt, "test_pubmed", data_dir=small_sample_dir, output=out)
    gold = load_corpus(small_sample_dir / DATA_FILES["test_pubmed"], FIELD_FULL)
    assert json.loads(out.read_text()) == res
    assert res["test_set"] == "pubmed" and res["sentences"] == len(gold) == 40
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

    monkeypatch.setattr(scoring, "tag_words", fake_tag_words)


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
    with caplog.at_level(logging.WARNING, logger="bioner.tagging.evaluation"):
        res = evaluation.evaluate(ckpt, "test_pubmed", data_dir=small_sample_dir)
    assert res["micro"]["f1"] == 0.0 and res["applicable"] is False
    assert any("does not predict ['Virus', 'Gene']" in r.getMessage() for r in caplog.records)


def test_unknown_test_set(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="allowed: bc5cdr, pubmed"):
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
# any gold file: Tagger.evaluate / bioner evaluate --test_file
def _conll_spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Exact spans by conlleval's chunk rules, written out independently (a chunk starts at B-X, or at I-X after
    O or another type; it ends before O, B-, or a change of type)."""
    out, start, typ = set(), None, None
    for i, t in enumerate([*tags, "O"]):
        if start is not None and (t == "O" or t.startswith("B-") or t[2:] != typ):
            out.add((start, i - 1, typ))
            start = typ = None
        if t != "O" and start is None:
            start, typ = i, t[2:]
    return out


def _read_conll(path: Path) -> list[list[tuple[str, str, str]]]:
    sents, cur = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            sents.append(cur)
            cur = []
        else:
            tok, gold, pred = line.split()
            cur.append((tok, gold, pred))
    assert not cur, "the last sentence must end with a blank line"
    return sents


GENE_FILE = [  # gold only for Gene (its Chemical/Disease are not annotated)
    {"tokens": ["TP53", "binds", "MDM2", "in", "cisplatin", "treated", "cells"],
     FIELD_FULL: ["B-Gene", "O", "B-Gene", "O", "O", "O", "O"], "decoded_tags": ["O"] * 7},
    {"tokens": ["IL", "6", "and", "TNF", "alpha", "rise"],
     FIELD_FULL: ["B-Gene", "I-Gene", "O", "B-Gene", "I-Gene", "O"], "decoded_tags": ["O"] * 6},
    {"tokens": ["no", "gene", "here"], FIELD_FULL: ["O", "O", "O"], "decoded_tags": ["O"] * 3},
]
GENE_PREDS = [  # hand-made, with I- starts (spans predict emits) and types the file is not gold for
    ["I-Gene", "O", "B-Gene", "O", "B-Chemical", "O", "O"],   # TP53 (I- start: a hit), MDM2 hit, Chemical ignored
    ["I-Gene", "I-Gene", "O", "B-Gene", "O", "I-Gene"],        # IL 6 hit (I- start), TNF wrong end, "rise" FP
    ["O", "I-Gene", "B-Disease", ],                             # "gene" FP (I- start), Disease ignored
]


def test_test_file_only_gene_gold_and_conll_agree_with_a_span_count(
        tmp_path: Path, tiny_backbone: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from bioner.cli.pipeline import main

    gold = tmp_path / "gene.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in GENE_FILE))
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", L9)
    _fake_tagger(monkeypatch, GENE_PREDS)
    out, conll = tmp_path / "res" / "gene.json", tmp_path / "res" / "gene.conll"
    assert main(["evaluate", "--checkpoint", str(ckpt), "--test_file", str(gold), "--types", "Gene",
                 "--output", str(out), "--conll", str(conll)]) == 0
    res = json.loads(out.read_text())
    assert res["annotated_types"] == ["Gene"] and res["field"] == FIELD_FULL and res["sentences"] == 3
    assert list(res["per_entity"]) == ["Gene"]
    # hand count: gold TP53, MDM2, IL 6, TNF alpha (4); predicted TP53, MDM2, IL 6, TNF, rise, gene (6); 3 hits
    assert res["micro"] == pytest.approx({"precision": 3 / 6, "recall": 3 / 4, "f1": 0.6, "support": 4})
    # the --conll file: restricted to Gene, the same spans; an independent count reproduces the project's F1
    sents = _read_conll(conll)
    assert [[t for t, _, _ in s] for s in sents] == [r["tokens"] for r in GENE_FILE]
    assert not any(lab.endswith(("Chemical", "Disease")) for s in sents for _, g, p in s for lab in (g, p))
    tp = n_gold = n_pred = 0
    for s in sents:
        g, p = _conll_spans([x[1] for x in s]), _conll_spans([x[2] for x in s])
        tp, n_gold, n_pred = tp + len(g & p), n_gold + len(g), n_pred + len(p)
    prec, rec = tp / n_pred, tp / n_gold
    assert (tp, n_gold, n_pred) == (3, 4, 6)
    assert res["micro"]["f1"] == pytest.approx(2 * prec * rec / (prec + rec), abs=1e-4)
    assert res["micro"]["precision"] == pytest.approx(prec, abs=1e-12)
    # and CoNLL's conlleval itself (the `conlleval` package, a port of conlleval.pl) reads the file alike
    ref = conlleval.evaluate(conll.read_text(encoding="utf-8").splitlines())
    pairs = ((res["micro"], ref["overall"]["chunks"]), (res["per_entity"]["Gene"], ref["slots"]["chunks"]["Gene"]))
    for ours, theirs in pairs:
        assert (ours["precision"], ours["recall"], ours["f1"]) == pytest.approx(
            (theirs["evals"]["prec"], theirs["evals"]["rec"], theirs["evals"]["f1"]), abs=1e-4)
    assert ref["overall"]["chunks"]["stats"] == {"gold": 4, "pred": 6, "correct": 3}
    printed = capsys.readouterr().out
    assert "gene.jsonl: 3 sentences, types Gene" in printed and f"wrote {conll}" in printed


def test_test_file_default_types_are_those_in_the_file(tmp_path: Path, tiny_backbone: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from bioner.tagging.tagger import Tagger

    gold = tmp_path / "gene.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in GENE_FILE))
    tagger = Tagger.load(_checkpoint(tiny_backbone, tmp_path / "ckpt", L9))
    _fake_tagger(monkeypatch, GENE_PREDS)
    res = tagger.evaluate(gold)
    assert res["annotated_types"] == ["Gene"] and res["micro"]["f1"] == pytest.approx(0.6)
    _fake_tagger(monkeypatch, GENE_PREDS)
    assert tagger.evaluate(gold, types="Gene")["micro"] == res["micro"]  # a str, as on the command line
    # the 5-tag view of the same file has no gold span: which types it is gold for must be said
    from bioner.tagging.load import EvaluateError

    with pytest.raises(EvaluateError, match="no gold span in field 'decoded_tags'.*--types"):
        tagger.evaluate(gold, field="decoded_tags")
    # naming types the field holds no span of would report F1 0 with exit 0: refused instead
    with pytest.raises(EvaluateError, match="no gold span of Gene in field 'decoded_tags'.*--field or --types"):
        tagger.evaluate(gold, field="decoded_tags", types="Gene")


def test_test_file_types_not_in_the_model_is_a_clear_error(tmp_path: Path, tiny_backbone: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    from bioner.cli.pipeline import main

    gold = tmp_path / "gene.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in GENE_FILE))
    ckpt5 = _checkpoint(tiny_backbone, tmp_path / "ckpt5", L5)

    def err(*argv: str) -> str:
        out = tmp_path / "out.json"
        assert main(["evaluate", "--checkpoint", str(ckpt5), "--test_file", str(gold), "--output", str(out),
                     *argv]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and not out.exists()
        return lines[0]

    msg = err("--types", "Gene")
    assert "scored on Gene, but the model" in msg and "predicts only Chemical, Disease" in msg
    assert "nothing to score" in err()  # default types (Gene, from the file): the same
    assert "has invalid type name(s) ['Pro-tein']" in err("--types", "Gene,Pro-tein")
    assert "nothing to score" in err("--types", "Gene", "--field", "decoded_tags")
    assert "expected comma-separated entity types" in err("--types", "Gene,")
    assert "--field/--types are for --test_file" in err_named(tmp_path, ckpt5, capsys)


def err_named(tmp_path: Path, ckpt: Path, capsys: pytest.CaptureFixture) -> str:
    from bioner.cli.pipeline import main

    assert main(["evaluate", "--checkpoint", str(ckpt), "--test_set", "test_bc5cdr", "--types", "Gene",
                 "--data_dir", str(tmp_path)]) == 2
    return capsys.readouterr().err.strip()


def test_named_test_set_conll_and_evaluate_agree(tmp_path: Path, tiny_backbone: Path, small_sample_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """--test_set with --conll, and the same file scored as --test_file with its types: identical scores."""
    ckpt = _checkpoint(tiny_backbone, tmp_path / "ckpt", L9)
    conll = tmp_path / "bc5.conll"
    named = evaluation.evaluate(ckpt, "test_bc5cdr", data_dir=small_sample_dir, conll=conll)
    from bioner.tagging.tagger import Tagger

    anyfile = Tagger.load(ckpt).evaluate(small_sample_dir / DATA_FILES["test_bc5cdr"], types=("Chemical", "Disease"),
                                         field=FIELD_GOLD)
    assert named["micro"] == anyfile["micro"] and named["per_entity"] == anyfile["per_entity"]
    sents = _read_conll(conll)
    assert len(sents) == named["sentences"]
    tp = n_gold = n_pred = 0
    for s in sents:
        g, p = _conll_spans([x[1] for x in s]), _conll_spans([x[2] for x in s])
        tp, n_gold, n_pred = tp + len(g & p), n_gold + len(g), n_pred + len(p)
    assert n_gold == named["micro"]["support"]
    prec = tp / n_pred if n_pred else 0.0
    assert named["micro"]["precision"] == pytest.approx(prec, abs=1e-12)
