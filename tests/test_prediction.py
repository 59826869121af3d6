"""`bioner predict`: text tokenizer, spans, windows, streaming, CLI errors, equality with the HF pipeline."""

from __future__ import annotations

import importlib.util
import json
import math
import random
import shutil
from pathlib import Path

import pytest
import torch

from bioner.cli.pipeline import main
from bioner.data.textsplit import tokenize, tokenize_with_offsets
from bioner.settings.labels import SEED_TYPES
from bioner.tagging import inference
from bioner.tagging.inference import plan_windows, tag_words
from bioner.tagging.prediction import PredictError, detect_format, extract_spans, predict_file
from bioner.training.modeling import load_checkpoint, load_tokenizer

L9 = SEED_TYPES.scheme("gold+silver").label2id

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------------------------
# a checkpoint whose outputs we control: a 0-layer BERT (embeddings -> classifier) with 64 positions in which a
# word's label depends only on its first sub-token. Positions past 64 would raise an IndexError, so any window
# that does not fit is caught.
KEYWORDS = {"sars": "B-Virus", "cov": "I-Virus", "hiv": "B-Virus", "cisplatin": "B-Chemical",
            "hepatitis": "B-Disease", "disease": "I-Disease", "ace2": "B-Gene", "il": "I-Gene"}
LOGIT = 12.0
KEYWORD_SCORE = math.exp(LOGIT) / (math.exp(LOGIT) + len(L9) - 1)


@pytest.fixture(scope="module")
def keyword_ckpt(tmp_path_factory: pytest.TempPathFactory, tiny_backbone: Path) -> Path:
    from transformers import BertConfig, BertForTokenClassification

    tok = load_tokenizer(tiny_backbone)
    n = len(L9)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=2 * n, num_hidden_layers=0, num_attention_heads=1,
                     intermediate_size=4, max_position_embeddings=64, hidden_dropout_prob=0.0,
                     pad_token_id=tok.pad_token_id, label2id=L9,
                     id2label={i: lab for lab, i in L9.items()})
    model = BertForTokenClassification(cfg)
    with torch.no_grad():
        emb = model.bert.embeddings
        emb.position_embeddings.weight.zero_()
        emb.token_type_embeddings.weight.zero_()
        emb.LayerNorm.weight.fill_(1.0)
        emb.LayerNorm.bias.zero_()
        words = emb.word_embeddings.weight
        words.zero_()
        words[:, 0], words[:, n] = 1.0, -1.0  # every token says O ...
        for word, label in KEYWORDS.items():  # ... except the keywords
            (tid,) = tok.convert_tokens_to_ids([word])
            assert tid != tok.unk_token_id, word
            k = L9[label]
            words[tid].zero_()
            words[tid, k], words[tid, n + k] = 1.0, -1.0
        # LayerNorm maps e_k - e_{n+k} to sqrt(n) * (e_k - e_{n+k}); the classifier reads dim k
        model.classifier.weight.zero_()
        model.classifier.weight[:, :n] = torch.eye(n) * LOGIT / math.sqrt(n)
        model.classifier.bias.zero_()
    out = tmp_path_factory.mktemp("keyword") / "ckpt"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def expected_labels(tok, words: list[str]) -> list[str]:
    """The keyword model's label for each word: that of its first sub-token."""
    return [KEYWORDS.get(tok.tokenize(w)[0], "O") for w in words]


@pytest.fixture(scope="module")
def trained_ckpt(tmp_path_factory: pytest.TempPathFactory, small_sample_dir: Path, tiny_backbone: Path) -> Path:
    """A real model, trained briefly (~4 s) on the small sample."""
    from bioner.settings import settings as S
    from bioner.training.run import train

    s = S.from_dict({"strategy": "joint_uniform", "backbone": str(tiny_backbone), "seed": 0,
                     "train": {"epochs": 2, "learning_rate": 5e-3}})
    out = tmp_path_factory.mktemp("trained")
    train(s, out / "models", data_dir=small_sample_dir, silver_dir=None, work_dir=out / "work")
    return out / "models" / "best_model"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------------------------------------------------------
# text tokenizer
def test_bio_tokenizer_keeps_biomedical_names_whole() -> None:
    text = "SARS-CoV-2 raised IL-6 (p<0.05) in HIV-1/AIDS patients given 5-fluorouracil, TNF-α and CD4+ cells."
    assert tokenize(text, "bio") == ["SARS-CoV-2", "raised", "IL-6", "(", "p", "<", "0.05", ")", "in", "HIV-1", "/",
                              "AIDS", "patients", "given", "5-fluorouracil", ",", "TNF-α", "and", "CD4", "+",
                              "cells", "."]
    assert tokenize("Parkinson's disease; pre- and post-treatment 1,25-dihydroxyvitamin D3", "bio") == [
        "Parkinson", "'", "s", "disease", ";", "pre", "-", "and", "post-treatment", "1,25-dihydroxyvitamin", "D3"]


def test_punct_tokenizer_splits_like_the_corpus() -> None:
    assert tokenize("SARS-CoV-2 and 5-fluorouracil.", "punct") == [
        "SARS", "-", "CoV", "-", "2", "and", "5", "-", "fluorouracil", "."]


def test_tokenizer_offsets_point_into_the_text() -> None:
    text = "  IL-6  levels (n=3)."
    for tok, a, b in tokenize_with_offsets(text):
        assert text[a:b] == tok
    with pytest.raises(ValueError, match="unknown tokenizer"):
        tokenize("x", "spacy")


# ---------------------------------------------------------------------------------------------------------------
# spans
def test_spans_repair_iob2_and_mean_scores() -> None:
    toks = ["a", "b", "c", "d", "e", "f", "g"]
    labels = ["I-Gene", "I-Gene", "O", "B-Chemical", "I-Disease", "O", "B-Virus"]
    scores = [0.9, 0.7, 1.0, 0.6, 0.8, 1.0, 0.5]
    assert extract_spans(toks, labels, scores) == [
        {"entity": "a b", "type": "Gene", "start_token": 0, "end_token": 1, "score": 0.8},
        {"entity": "d", "type": "Chemical", "start_token": 3, "end_token": 3, "score": 0.6},
        {"entity": "e", "type": "Disease", "start_token": 4, "end_token": 4, "score": 0.8},
        {"entity": "g", "type": "Virus", "start_token": 6, "end_token": 6, "score": 0.5},  # last token
    ]
    text = "IL-6 levels"
    assert extract_spans(["IL-6", "levels"], ["B-Gene", "I-Gene"], [1.0, 1.0], text, [(0, 4), (5, 11)])[0][
        "entity"] == "IL-6 levels"


# ---------------------------------------------------------------------------------------------------------------
# windows
@pytest.mark.parametrize("seed", range(5))
def test_plan_windows_tiles_every_word_within_budget(seed: int) -> None:
    rng = random.Random(seed)
    lens = [rng.choice([1, 1, 1, 2, 3, 7]) for _ in range(rng.randint(1, 400))] + [40]  # one word > budget
    budget = 30
    wins = plan_windows(lens, budget)
    assert wins[0][2] == 0 and wins[-1][3] == len(lens)
    for (a, b, oa, ob), nxt in zip(wins, [*wins[1:], None], strict=True):
        assert a <= oa <= ob <= b
        assert sum(lens[a:b]) <= budget or b - a == 1
        if nxt is not None:
            assert nxt[2] == ob and nxt[0] > a  # owned ranges tile; windows move forward


def test_long_sentence_is_windowed_and_every_word_labelled(keyword_ckpt: Path) -> None:
    tok, model = load_checkpoint(keyword_ckpt)
    rng = random.Random(0)
    vocab = ["the", "of", "patients", "virus", "ccr5", "ebv", "treated", *KEYWORDS]
    words = [rng.choice(vocab) for _ in range(1999)] + ["sars"]  # entity at the very last token
    assert len(tok(words, is_split_into_words=True)["input_ids"]) > 64 * 10
    (pred,) = tag_words([words], tok, model, batch_size=4)  # 64 positions: an unwindowed pass would fail
    assert len(pred.labels) == len(words)
    assert pred.labels == expected_labels(tok, words)
    assert pred.labels[-1] == "B-Virus"
    assert pred.scores[-1] == pytest.approx(KEYWORD_SCORE, abs=1e-5)
    # the same through smaller windows and a tiny chunk
    (pred2,) = tag_words([words], tok, model, max_length=8, chunk_size=1)
    assert pred2.labels == pred.labels


def test_word_longer_than_the_window_keeps_its_first_subtoken(keyword_ckpt: Path) -> None:
    tok, model = load_checkpoint(keyword_ckpt)
    words = ["hepatitis", "sars" + "-x" * 100, "of"]  # 201 sub-tokens > 62
    (pred,) = tag_words([words], tok, model)
    assert pred.labels == ["B-Disease", "B-Virus", "O"]


def test_streaming_keeps_order_and_reads_lazily(keyword_ckpt: Path) -> None:
    tok, model = load_checkpoint(keyword_ckpt)
    rng = random.Random(1)
    sents = [[rng.choice(["the", "sars", "cov", "of", "hiv", "cisplatin"]) for _ in range(rng.randint(0, 30))]
             for _ in range(50)]
    pulled = 0

    def gen():
        nonlocal pulled
        for s in sents:
            pulled += 1
            yield s

    it = tag_words(gen(), tok, model, batch_size=3, chunk_size=7)
    first = next(it)
    assert pulled <= 8  # one chunk (+ the look-ahead that ends it), not the whole input
    preds = [first, *it]
    assert [p.labels for p in preds] == [expected_labels(tok, s) for s in sents]


def test_zero_subtoken_words_keep_their_place(keyword_ckpt: Path) -> None:
    tok, model = load_checkpoint(keyword_ckpt)
    (pred,) = tag_words([["sars", "\u200b", "cov", "\x00", "hiv"]], tok, model)
    assert pred.labels == ["B-Virus", "O", "I-Virus", "O", "B-Virus"]


# ---------------------------------------------------------------------------------------------------------------
# predict files / CLI
def test_predict_jsonl_keeps_fields_and_ids(keyword_ckpt: Path, tmp_path: Path) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [
        {"id": 17, "tokens": ["The", "SARS", "CoV", "load", "hepatitis", "disease"], "pmid": "123"},
        {"tokens": ["no", "entity"]},
        {"sentence_id": "s3", "tokens": []},
        {"tokens": ["given", "cisplatin"]},
    ])
    with open(inp, "a", encoding="utf-8") as fh:
        fh.write("\n")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--checkpoint", str(keyword_ckpt), "--input", str(inp), "--output", str(out)]) == 0
    rows = read_jsonl(out)
    assert [r["sentence_id"] for r in rows] == ["17", "1", "s3", "3", "4"]  # the blank last line: one row too
    assert rows[0]["pmid"] == "123" and rows[0]["id"] == 17
    p = rows[0]["predictions"]
    assert [(x["entity"], x["type"], x["start_token"], x["end_token"]) for x in p] == [
        ("SARS CoV", "Virus", 1, 2), ("hepatitis disease", "Disease", 4, 5)]
    assert p[0]["score"] == pytest.approx(KEYWORD_SCORE, abs=1e-4)
    assert rows[1]["predictions"] == [] and rows[2]["predictions"] == []
    assert rows[3]["predictions"][0]["end_token"] == 1  # entity at the last token
    assert rows[4] == {"sentence_id": "4", "tokens": [], "predictions": []}
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temp file left


@pytest.mark.parametrize(("flags", "fixed"), [([], 1), (["--memory", "fast"], 0)])
def test_predict_fixes_the_mmap_threshold_unless_fast(keyword_ckpt: Path, tmp_path: Path, flags: list[str],
                                                      fixed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from bioner.tagging import memory

    calls: list[int] = []
    monkeypatch.setattr(memory, "fix_mmap_threshold", lambda *a: calls.append(1) or True)
    inp = write_jsonl(tmp_path / "in.jsonl", [{"tokens": ["SARS", "CoV"]}])
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--checkpoint", str(keyword_ckpt), "--input", str(inp), "--output", str(out),
                 *flags]) == 0
    assert len(calls) == fixed and read_jsonl(out)[0]["predictions"][0]["type"] == "Virus"


def test_predict_text_mode(keyword_ckpt: Path, tmp_path: Path) -> None:
    inp = tmp_path / "in.txt"
    inp.write_text("SARS-CoV-2 and  HIV-1 in ACE2 cells.\n\nIL-6 was given with cisplatin\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = predict_file(keyword_ckpt, inp, out, tokenizer="bio", progress=False)
    assert res["format"] == "text" and res["sentences"] == 3  # one per line, the blank one included
    rows = read_jsonl(out)
    assert rows[0]["tokens"] == ["SARS-CoV-2", "and", "HIV-1", "in", "ACE2", "cells", "."]
    assert rows[0]["text"] == "SARS-CoV-2 and  HIV-1 in ACE2 cells."
    assert [(x["entity"], x["type"], x["start_token"]) for x in rows[0]["predictions"]] == [
        ("SARS-CoV-2", "Virus", 0), ("HIV-1", "Virus", 2), ("ACE2", "Gene", 4)]
    assert rows[1] == {"sentence_id": "1", "tokens": [], "predictions": [], "text": ""}  # the blank line
    assert rows[2]["sentence_id"] == "2"  # the line index
    # "IL-6": I-Gene at the start of a span is repaired to B-Gene
    assert [(x["entity"], x["type"]) for x in rows[2]["predictions"]] == [("IL-6", "Gene"), ("cisplatin", "Chemical")]


def test_format_detection(tmp_path: Path) -> None:
    (tmp_path / "a.data").write_text('\n{"tokens": ["x"]}\n')
    (tmp_path / "b.data").write_text("IL-6 levels\n")
    assert detect_format(tmp_path / "a.data") == "jsonl"
    assert detect_format(tmp_path / "b.data") == "text"
    assert detect_format(tmp_path / "c.txt") == "text"
    assert detect_format(tmp_path / "b.data", "jsonl") == "jsonl"


def test_predict_long_sentence_end_to_end(keyword_ckpt: Path, tmp_path: Path) -> None:
    words = ["the", "patients"] * 1000 + ["hepatitis", "disease"]
    inp = write_jsonl(tmp_path / "long.jsonl", [{"tokens": words}])
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--checkpoint", str(keyword_ckpt), "--input", str(inp), "--output", str(out)]) == 0
    (row,) = read_jsonl(out)
    assert row["predictions"] == [{"entity": "hepatitis disease", "type": "Disease", "start_token": 2000,
                                   "end_token": 2001, "score": round(KEYWORD_SCORE, 4)}]


@pytest.mark.parametrize(("content", "message"), [
    ('{"tokens": ["a"]}\n{"tokens": ["b"\n', "in.jsonl:2: bad JSON"),
    ('{"tokens": ["a"]}\n[1, 2]\n', "in.jsonl:2: expected a JSON object"),
    ('{"text": "a b"}\n', "in.jsonl:1: missing field 'tokens'"),
    ('{"tokens": "a b"}\n', "in.jsonl:1: field 'tokens' must be a list of strings"),
    (b'{"tokens": ["\xff"]}\n', "in.jsonl:1: not valid UTF-8"),
])
def test_bad_input_lines(keyword_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                         content: str | bytes, message: str) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    assert main(["predict", "--checkpoint", str(keyword_ckpt), "--input", str(inp), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert out.read_text() == "old\n"  # untouched, and no temp file beside it
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_unreadable_input_and_bad_checkpoints(keyword_ckpt: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"tokens": ["sars"]}])
    out = tmp_path / "o" / "out.jsonl"

    def run(ckpt: Path, input_path: Path = inp, *extra: str) -> str:
        code = main(["predict", "--checkpoint", str(ckpt), "--input", str(input_path), "--output", str(out),
                     *extra])
        assert code == 2
        assert not out.exists()
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        return err

    assert "input file not found" in run(keyword_ckpt, tmp_path / "missing.jsonl")
    assert "is a directory" in run(keyword_ckpt, tmp_path)
    empty = tmp_path / "empty_ckpt"
    empty.mkdir()
    assert "no model here" in run(empty)
    assert "not found" in run(tmp_path / "nope")
    pickled = tmp_path / "pickled"
    shutil.copytree(keyword_ckpt, pickled)
    from safetensors.torch import load_file

    torch.save(load_file(pickled / "model.safetensors"), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    assert "--allow_pickle" in run(pickled)
    with pytest.raises(PredictError, match="unknown format"):
        predict_file(keyword_ckpt, inp, out, fmt="csv")


# ---------------------------------------------------------------------------------------------------------------
# a trained model: same spans as transformers.pipeline(aggregation_strategy="first"), and the same as evaluate's
def _bench():
    spec = importlib.util.spec_from_file_location("bench_predict", ROOT / "benchmarks" / "bench_predict.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_same_spans_as_the_transformers_pipeline(trained_ckpt: Path, small_sample_dir: Path) -> None:
    import warnings

    from transformers import pipeline

    bench = _bench()
    sents = bench.load_sentences(small_sample_dir, None)
    tok, model = load_checkpoint(trained_ckpt)
    ours = bench.ours(sents, tok, model, 16, "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy="first",
                        device=torch.device("cpu"))
    theirs = bench.pipeline_spans(pipe, sents, 8)
    same, n_spans, diffs = bench.compare(ours, theirs)
    assert n_spans >= 20, "the model should find entities, or the comparison means little"
    assert same == len(sents), diffs


def test_windows_on_a_trained_model_label_every_word(trained_ckpt: Path, small_sample_dir: Path) -> None:
    from bioner.data.corpus import load_corpus

    tok, model = load_checkpoint(trained_ckpt)
    sents = load_corpus(small_sample_dir / "pubmed" / "pubmed_test.jsonl", "decoded_tags_pseudo_final").tokens
    words = [w for s in sents for w in s]
    (whole,) = tag_words([words], tok, model, max_length=64)
    assert len(whole.labels) == len(words) and all(0.0 < s <= 1.0 for s in whole.scores)
    # most words get the label they get when their sentence is tagged alone (the context differs at the cuts)
    alone = [lab for p in tag_words(sents, tok, model) for lab in p.labels]
    agree = sum(a == b for a, b in zip(whole.labels, alone, strict=True)) / len(words)
    assert agree > 0.8
    assert inference.max_positions(tok, model, 64) == 64


# ---------------------------------------------------------------------------------------------------------------
# the Python API: from bioner import Tagger
def test_tagger_predicts_texts_and_token_lists(keyword_ckpt: Path) -> None:
    from bioner import Span, Tagger

    tagger = Tagger.load(keyword_ckpt, device="cpu")
    assert tagger.entity_types == ("Chemical", "Disease", "Virus", "Gene") and "Tagger(" in repr(tagger)
    text = "SARS-CoV-2 and  HIV-1 in ACE2 cells."
    by_text, by_tokens, empty = tagger.predict([text, ["the", "sars", "cov", "hepatitis"], []], tokenizer="bio")
    assert [(s.entity, s.type, s.start_token, s.end_token) for s in by_text] == [
        ("SARS-CoV-2", "Virus", 0, 0), ("HIV-1", "Virus", 2, 2), ("ACE2", "Gene", 4, 4)]
    for s in by_text:  # character offsets into the original text, which a KG builder can cite
        assert text[s.start_char:s.end_char] == s.entity
    assert by_text[1].start_char == 16 and by_text[1].score == round(KEYWORD_SCORE, 4)
    assert by_tokens == [Span("sars cov", "Virus", 1, 2, round(KEYWORD_SCORE, 4)),
                         Span("hepatitis", "Disease", 3, 3, round(KEYWORD_SCORE, 4))]
    assert by_tokens[0].to_dict() == {"entity": "sars cov", "type": "Virus", "start_token": 1, "end_token": 2,
                                      "score": round(KEYWORD_SCORE, 4)}
    assert empty == []
    assert tagger.predict(text, tokenizer="bio") == [by_text]  # a single str is one text
    assert tagger.predict([text], tokenizer="punct")[0][0].entity == "SARS"  # SARS - CoV - 2 split
    with pytest.raises(TypeError, match="input 1: expected a text"):
        tagger.predict(["ok", 42])


def test_tagger_stream_is_lazy_and_matches_the_cli(keyword_ckpt: Path, tmp_path: Path) -> None:
    from bioner import Tagger

    tagger = Tagger.load(str(keyword_ckpt))
    rng = random.Random(3)
    sents = [[rng.choice(["the", "sars", "cov", "of", "hiv", "cisplatin"]) for _ in range(rng.randint(1, 20))]
             for _ in range(40)]
    pulled = 0

    def gen():
        nonlocal pulled
        for s in sents:
            pulled += 1
            yield s

    it = tagger.stream(gen(), batch_size=4, chunk_size=8)
    first = next(it)
    assert pulled <= 9  # one chunk read, not the whole input
    api = [first, *it]
    inp = write_jsonl(tmp_path / "in.jsonl", [{"tokens": s} for s in sents])
    assert main(["predict", "--checkpoint", str(keyword_ckpt), "--input", str(inp),
                 "--output", str(tmp_path / "out.jsonl")]) == 0
    assert [r["predictions"] for r in read_jsonl(tmp_path / "out.jsonl")] == [[s.to_dict() for s in x] for x in api]


def test_cli_text_output_has_character_offsets(keyword_ckpt: Path, tmp_path: Path) -> None:
    inp = tmp_path / "in.txt"
    inp.write_text("Given cisplatin, HIV-1 fell.\n", encoding="utf-8")
    predict_file(keyword_ckpt, inp, tmp_path / "out.jsonl", tokenizer="bio", progress=False)
    (row,) = read_jsonl(tmp_path / "out.jsonl")
    assert [(p["entity"], p["start_char"], p["end_char"]) for p in row["predictions"]] == [
        ("cisplatin", 6, 15), ("HIV-1", 17, 22)]


def test_int8_quantized_tagger_agrees_with_fp32(trained_ckpt: Path, small_sample_dir: Path) -> None:
    from bioner import Tagger
    from bioner.data.corpus import load_corpus

    sents = load_corpus(small_sample_dir / "bc5cdr" / "bc5cdr_test.jsonl", "decoded_tags").tokens
    fp32 = Tagger.load(trained_ckpt, device="cpu")
    int8 = Tagger.load(trained_ckpt, quantize="int8")
    assert int8.device.type == "cpu" and int8.quantize == "int8"
    quantized = [n for n, m in int8.model.named_modules() if type(m).__module__.startswith("torch.ao.nn.quantized")]
    assert any(n.endswith("intermediate.dense") for n in quantized)  # the encoder's Linear layers were replaced
    assert type(int8.model.classifier) is torch.nn.Linear  # the head stays fp32
    a = [lab for p in fp32.tag_words(sents) for lab in p.labels]
    b = [lab for p in int8.tag_words(sents) for lab in p.labels]
    assert sum(x == y for x, y in zip(a, b, strict=True)) / len(a) > 0.95
    assert any(lab != "O" for lab in b)
