"""Relabelling a corpus file, the label-quality report and scoring against gold (bioner.distant.labelling)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.data.corpus import CorpusError, load_corpus
from bioner.distant.errors import DistantError
from bioner.distant.labelling import FIELD_IDS, label_corpus, score_labelling
from bioner.distant.lexicon import MatchRules, load_lexicon
from bioner.distant.matcher import Matcher
from bioner.settings.labels import FIELD_FULL, FIELD_GOLD


def _rec(tokens: str, gold: list[str] | None = None, old: list[str] | None = None, **extra) -> dict:
    toks = tokens.split()
    return {"tokens": toks, FIELD_GOLD: gold or ["O"] * len(toks), FIELD_FULL: old or ["O"] * len(toks), **extra}


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def matcher(tmp_path: Path) -> Matcher:
    (tmp_path / "genes.tsv").write_text("# genes\nCD4\tHGNC:1678\ninsulin receptor\tHGNC:6091\nER\nnever seen\n",
                                        encoding="utf-8")
    (tmp_path / "viruses.txt").write_text("HIV\nhepatitis B virus\nHBV\n", encoding="utf-8")
    return Matcher(load_lexicon({"Virus": "viruses.txt", "Gene": "genes.tsv"}, MatchRules(max_tokens=2),
                                gold_types=("Chemical", "Disease"), base_dir=tmp_path))


def test_relabel_silver(tmp_path: Path, matcher: Matcher) -> None:
    src = _write_jsonl(tmp_path / "silver.jsonl", [
        _rec("HIV binds CD4 on T cells", old=["O", "O", "O", "O", "B-Gene", "I-Gene"], pmid="1"),
        _rec("the INSULIN receptor and ER", pmid="2"),
        _rec("nothing here", pmid="3"),
        _rec("hiv and CD4 and CD4"),
    ])
    rep = label_corpus(src, tmp_path / "out.jsonl", matcher, report_path=tmp_path / "report.json")
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r[FIELD_FULL] for r in out] == [
        ["B-Virus", "O", "B-Gene", "O", "O", "O"],  # the old labels are replaced, not merged
        ["O", "B-Gene", "I-Gene", "O", "B-Gene"],
        ["O", "O"],
        ["O", "O", "B-Gene", "O", "B-Gene"],  # "hiv": HIV (3 characters) is case-sensitive
    ]
    assert [r[FIELD_GOLD] for r in out] == [["O"] * len(r["tokens"]) for r in out]
    assert [r.get("pmid") for r in out] == ["1", "2", "3", None]  # other fields kept
    assert [r.get(FIELD_IDS) for r in out] == [[[2, 3, "Gene", "HGNC:1678"]], [[1, 3, "Gene", "HGNC:6091"]],
                                               None, [[2, 3, "Gene", "HGNC:1678"], [4, 5, "Gene", "HGNC:1678"]]]
    assert load_corpus(tmp_path / "out.jsonl", FIELD_FULL).tags == [r[FIELD_FULL] for r in out]

    assert json.loads((tmp_path / "report.json").read_text()) == rep
    assert (rep["sentences"], rep["tokens"], rep["sentences_covered"]) == (4, 18, 3)
    gene, virus = rep["types"]["Gene"], rep["types"]["Virus"]
    assert rep["rules"] == {"max_tokens": 2, "case_sensitive_max_chars": 4, "priority": ["Virus", "Gene"],
                            "case_sensitive_word_zipf": 0.0}
    assert (virus["names_read"], virus["names_loaded"], virus["names_dropped"]) == (
        3, 2, {"longer than 2 tokens": 1})
    assert virus["dropped_examples"] == {"longer than 2 tokens": ["hepatitis B virus"]}
    assert (gene["spans_matched"], gene["tokens_labelled"], gene["sentences_covered"]) == (5, 6, 3)
    assert (virus["spans_matched"], virus["sentences_covered"]) == (1, 1)
    assert gene["names_never_matched"] == 1 and gene["never_matched_examples"] == ["never seen"]
    assert virus["never_matched_examples"] == ["HBV"]
    assert gene["top_matches"] == [{"name": "CD4", "line": 2, "spans": 3}, {"name": "insulin receptor", "line": 3,
                                                                             "spans": 1},
                                   {"name": "ER", "line": 4, "spans": 1}]


def test_only_gold_o_keeps_gold_spans(tmp_path: Path, matcher: Matcher) -> None:
    src = _write_jsonl(tmp_path / "bc5cdr.jsonl", [
        _rec("HIV insulin receptor CD4", gold=["B-Disease", "O", "B-Chemical", "O"]),
    ])
    label_corpus(src, tmp_path / "out.jsonl", matcher, only_gold_o=True)
    rec = json.loads((tmp_path / "out.jsonl").read_text())
    assert rec[FIELD_FULL] == ["B-Disease", "O", "B-Chemical", "B-Gene"]  # "insulin receptor" would cut gold
    label_corpus(src, tmp_path / "all.jsonl", matcher)
    assert json.loads((tmp_path / "all.jsonl").read_text())[FIELD_FULL] == ["B-Virus", "B-Gene", "I-Gene", "B-Gene"]


def test_a_bad_corpus_writes_nothing(tmp_path: Path, matcher: Matcher) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text(json.dumps(_rec("HIV")) + "\n" + '{"tokens": ["a"], "decoded_tags": ["B-Gene"]}\n')
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    with pytest.raises(CorpusError, match=r"bad.jsonl:2: label\(s\) \['B-Gene'\] not in the 5-label space"):
        label_corpus(src, out, matcher, report_path=tmp_path / "r.json")
    assert out.read_text() == "previous\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.jsonl", "genes.tsv", "out.jsonl", "viruses.txt"]


def test_score_against_gold(tmp_path: Path, matcher: Matcher) -> None:
    gold = _write_jsonl(tmp_path / "gold.jsonl", [
        _rec("HIV binds CD4", old=["B-Virus", "O", "B-Gene"]),
        _rec("insulin receptor and ER", old=["B-Gene", "I-Gene", "O", "O"]),  # ER: a false positive
        _rec("gp120 of HIV", old=["B-Gene", "O", "O"]),  # gp120 missed; the gold marks no Virus here
    ])
    s = score_labelling(gold, matcher, ("Gene",))
    assert s["per_entity"]["Gene"] == {"precision": 2 / 3, "recall": 2 / 3, "f1": pytest.approx(2 / 3),
                                       "support": 3}
    assert list(s["per_entity"]) == ["Gene"] and s["sentences"] == 3
    s = score_labelling(gold, matcher)  # every dictionary type
    assert s["per_entity"]["Virus"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    with pytest.raises(DistantError, match=r"--types Gene,Species: \['Species'\] not among the dictionary types"):
        score_labelling(gold, matcher, ("Gene", "Species"))
