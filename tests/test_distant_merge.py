"""Building each type's dictionary from several sources: provenance, filters per source, clashes between types
(priority or drop: data, never an error), the dictionary report and the merged dictionary files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.data.sample import write_sample_corpus
from bioner.distant.errors import DistantError
from bioner.distant.filters import NameFilters
from bioner.distant.lexicon import load_lexicon
from bioner.distant.merge import EXAMPLE_CHARS, EXAMPLES, build_dictionaries
from bioner.distant.stage import run_stage
from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES


def _write(d: Path, name: str, text: str) -> str:
    (d / name).write_text(text, encoding="utf-8")
    return name


def _texts(merged: dict, t: str) -> list[str]:
    return [n.text for n in merged[t][1]]


def test_a_name_given_twice_is_one_name_with_every_source(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.txt", "HIV\nSARS-CoV-2\tNCBITaxon:2697049\n")
    b = _write(tmp_path, "b.txt", "SARS - CoV - 2\tOTHER:1\nHIV\nHIV\n")  # the same tokens as a.txt's names
    merged, report = build_dictionaries({"Virus": [a, b]}, base_dir=tmp_path)
    names = merged["Virus"][1]
    assert [(n.text, n.canonical_id, n.sources) for n in names] == [
        ("HIV", None, ("list:a.txt", "list:b.txt")),
        ("SARS-CoV-2", "NCBITaxon:2697049", ("list:a.txt", "list:b.txt"))]  # the first id is kept
    src = report["types"]["Virus"]["sources"]
    assert [(s["source"], s["names_read"], s["names_kept"], s["already_given_by_an_earlier_source"])
            for s in src] == [("list:a.txt", 2, 2, 0), ("list:b.txt", 3, 0, 3)]


@pytest.mark.parametrize(("clash", "virus", "gene", "kept_by"), [
    ("priority", ["HIV", "E1"], ["CD4"], "Virus"),
    ("drop", ["HIV"], ["CD4"], None),
])
def test_clash_rule(tmp_path: Path, clash: str, virus: list[str], gene: list[str], kept_by: str | None) -> None:
    v = _write(tmp_path, "v.txt", "HIV\nE1\n")
    g = _write(tmp_path, "g.txt", "CD4\nE1\n")
    lex = load_lexicon({"Virus": v, "Gene": g}, base_dir=tmp_path, clash=clash)  # no error: clashes are data
    assert [e.name.text for e in lex.types["Virus"].entries] == virus
    assert [e.name.text for e in lex.types["Gene"].entries] == gene
    c = lex.sources_report["clashes"]
    assert (c["rule"], c["names"], c["by_types"], c["examples"]) == (clash, 1, {"Virus / Gene": 1}, {"E1": kept_by})
    assert lex.sources_report["types"]["Gene"]["lost_to_clashes"] == 1
    assert lex.sources_report["types"]["Virus"]["lost_to_clashes"] == (clash == "drop")


def test_priority_order_decides_a_clash(tmp_path: Path) -> None:
    from bioner.distant.lexicon import MatchRules

    v = _write(tmp_path, "v.txt", "HIV\nE1\n")
    g = _write(tmp_path, "g.txt", "CD4\nE1\n")
    lex = load_lexicon({"Virus": v, "Gene": g}, MatchRules(priority=("Gene", "Virus")), base_dir=tmp_path)
    assert [e.name.text for e in lex.types["Gene"].entries] == ["CD4", "E1"]
    assert lex.sources_report["clashes"]["examples"] == {"E1": "Gene"}


def test_a_type_left_with_no_name_is_an_error(tmp_path: Path) -> None:
    v = _write(tmp_path, "v.txt", "E1\n")
    with pytest.raises(DistantError, match=r"^distant.dictionaries.Gene: no Gene name is left after the clash rule "
                                           r"\(distant.clash=priority: 1 names"):
        build_dictionaries({"Virus": v, "Gene": v}, base_dir=tmp_path)
    with pytest.raises(DistantError, match=r"^distant.dictionaries.Virus: no Virus name is left after the filters "
                                           r"\(list:n.txt: a number, roman numeral or single letter 1\)"):
        build_dictionaries({"Virus": {"path": _write(tmp_path, "n.txt", "7\n"), "filters": True}}, base_dir=tmp_path,
                           filters=NameFilters(min_chars=1))


def test_filters_apply_to_sources_that_ask(tmp_path: Path) -> None:
    text = "II\ngreat\nACE2\nX\n" + "A" * 10_000 + "\n"
    hand = _write(tmp_path, "hand.txt", text)
    f = NameFilters(min_chars=2, common_word_zipf=4.0)
    merged, _ = build_dictionaries({"Gene": hand}, filters=f, base_dir=tmp_path)
    assert len(merged["Gene"][1]) == 5  # a hand list is kept as written by default
    spec = {"format": "list", "path": hand, "filters": True}
    merged, report = build_dictionaries({"Gene": spec}, filters=f, base_dir=tmp_path)
    assert _texts(merged, "Gene") == ["ACE2", "A" * 10_000]
    (src,) = report["types"]["Gene"]["sources"]
    assert src["dropped"] == {"a number, roman numeral or single letter": 1, "shorter than 2 characters": 1,
                              "common English word (wordfreq Zipf >= 4)": 1}
    merged, report = build_dictionaries({"Gene": spec | {"common_word_zipf": 0, "min_chars": 5}}, filters=f,
                                        base_dir=tmp_path)  # per-source overrides
    assert _texts(merged, "Gene") == ["great", "A" * 10_000]
    assert report["filters"]["common_word_zipf"] == 4.0


def test_report_stays_small(tmp_path: Path) -> None:
    huge = "1" * 100_000
    lines = [f"{huge}{i}" for i in range(3 * EXAMPLES)] + ["CD4"]
    src = _write(tmp_path, "g.txt", "\n".join(lines) + "\n")
    merged, report = build_dictionaries({"Gene": {"format": "list", "path": src, "filters": True}},
                                        base_dir=tmp_path)
    (s,) = report["types"]["Gene"]["sources"]
    ex = s["dropped_examples"]["a number, roman numeral or single letter"]
    assert len(ex) == EXAMPLES and all(len(e) <= EXAMPLE_CHARS + 3 for e in ex)
    assert len(json.dumps(report)) < 3_000


def test_stage_writes_merged_dictionaries_and_report(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_sample_corpus(raw, seed=0, sizes={"train": 10, "validation": 5, "test_bc5cdr": 5, "silver": 20,
                                            "test_pubmed": 5})
    _write(raw, "extra_viruses.txt", "HIV-1\nE1\tX:1\n")
    _write(raw, "extra_genes.txt", "E1\n")
    cfg = S.DistantSettings(mode="relabel", dictionaries={
        "Virus": ["dictionaries/viruses.txt", "extra_viruses.txt"],
        "Gene": ["dictionaries/genes.txt", "extra_genes.txt"]})
    m = run_stage(cfg, raw, tmp_path / "lab", gold_types=("Chemical", "Disease"), metrics_path=tmp_path / "m.json",
                  report_path=tmp_path / "r.json")
    rows = (tmp_path / "lab" / "dictionaries" / "Virus.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "# name\tcanonical_id\tsources"
    assert "E1\tX:1\tlist:extra_viruses.txt" in rows
    assert "HIV-1\t\tlist:dictionaries/viruses.txt; list:extra_viruses.txt" in rows
    genes = (tmp_path / "lab" / "dictionaries" / "Gene.tsv").read_text(encoding="utf-8")
    assert "\nE1\t" not in genes  # the clash went to Virus (first in priority)
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["dictionaries"]["clashes"]["examples"] == {"E1": "Virus"}
    assert report["files"]["silver"]["output"] == DATA_FILES["silver"]  # not the vanished temp tree
    assert str(tmp_path / "lab") not in json.dumps(report["files"])
    assert set(report["dictionaries"]["inputs"]) == {"Virus_0", "Virus_1", "Gene_0", "Gene_1"}
    assert {k for k in m if k.startswith("sha256_")} == {"sha256_Virus_0", "sha256_Virus_1", "sha256_Gene_0",
                                                         "sha256_Gene_1"}
