"""Matching rules over the dictionaries (bioner.distant.lexicon): drops with reasons, priority, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.distant.dictionary import DictName, tokenize_name
from bioner.distant.errors import DistantError
from bioner.distant.lexicon import MatchRules, build_lexicon, check_type_name, load_lexicon


def _names(*texts: str) -> list[DictName]:
    return [DictName(t, tokenize_name(t), i) for i, t in enumerate(texts, start=1)]


def _texts(lex, t: str) -> list[str]:
    return [e.name.text for e in lex.types[t].entries]


def test_case_sensitivity_by_length() -> None:
    lex = build_lexicon({"Virus": ("v.txt", _names("HIV", "IL-2", "HIV-1"))})
    assert [e.case_sensitive for e in lex.types["Virus"].entries] == [True, True, False]  # <= 4 characters: HIV-1 has 5
    lex = build_lexicon({"Virus": ("v.txt", _names("HIV", "HIV-1"))}, MatchRules(case_sensitive_max_chars=0))
    assert not any(e.case_sensitive for e in lex.types["Virus"].entries)
    assert lex.types["Virus"].entries[1].key == ("hiv", "-", "1")


def test_drops_with_reasons() -> None:
    genes = _names("p53", "a b c d", "ER", "insulin receptor", "Insulin Receptor", "IL-2", "IL - 2", "er")
    lex = build_lexicon({"Gene": ("g.txt", genes)}, MatchRules(max_tokens=3), stop=("stop", _names("eR")))
    tl = lex.types["Gene"]
    assert _texts(lex, "Gene") == ["p53", "insulin receptor", "IL-2"]
    assert {r: [n.text for n in v] for r, v in tl.dropped.items()} == {
        "longer than 3 tokens": ["a b c d"],
        "in the stop list": ["ER", "er"],  # the stop list is compared ignoring case
        "duplicate within the type (matches the same spans as an earlier line)": ["Insulin Receptor", "IL - 2"],
    }
    assert tl.names_read == 8 and lex.stop_unused == [] and lex.stop_entries == 1


def test_case_sensitivity_ignores_spacing() -> None:
    # the same tokens match alike however the line spaces them: "IL - 2" counts 4 characters like "IL-2"
    lex = build_lexicon({"Gene": ("g.txt", _names("IL - 2", "AT III"))})
    assert [e.case_sensitive for e in lex.types["Gene"].entries] == [True, False]


def test_case_sensitive_duplicate_of_an_insensitive_name_is_dropped() -> None:
    # "Maß" (3 characters: case-sensitive) folds to "mass", which "MASS" (4: case-insensitive) already matches
    lex = build_lexicon({"Gene": ("g.txt", _names("MASS", "Maß"))}, MatchRules(case_sensitive_max_chars=3))
    assert _texts(lex, "Gene") == ["MASS"]


def test_priority_shadows_and_orders() -> None:
    d = {"Gene": ("g.txt", _names("Influenza", "CD4")), "Virus": ("v.txt", _names("influenza", "HIV"))}
    lex = build_lexicon(d, MatchRules(priority=("Virus", "Gene")))
    assert lex.priority == ("Virus", "Gene")
    assert _texts(lex, "Gene") == ["CD4"]
    assert list(lex.types["Gene"].dropped) == ["shadowed by a Virus name (priority; same tokens ignoring case)"]
    lex = build_lexicon(d)  # default: dictionary order, Gene first
    assert lex.priority == ("Gene", "Virus") and _texts(lex, "Virus") == ["HIV"]
    assert [e.name.text for e in lex.entries()] == ["Influenza", "CD4", "HIV"]


def test_same_name_in_two_types_is_an_error() -> None:
    d = {"Gene": ("g.txt", _names("CD4", "HBV")), "Virus": ("v.txt", _names("EBV", "HIV", "HBV"))}
    with pytest.raises(DistantError, match=r"^v.txt:3: the name 'HBV' is also a Gene name \(g.txt:2\); a name "
                                           r"may belong to one type"):
        build_lexicon(d)


@pytest.mark.parametrize(("name", "message"), [
    ("Gene-X", "is not a valid label fragment"), ("1Gene", "is not a valid label fragment"),
    ("O", "is not a valid label fragment"), ("", "is not a valid label fragment"),
    ("Cell_line", "is not a valid label fragment; allowed: a letter followed by letters or digits"),
    ("Disease", "clashes with the gold type 'Disease'"), ("chemical", "clashes with the gold type 'Chemical'"),
])
def test_type_names(name: str, message: str) -> None:
    with pytest.raises(DistantError, match=rf"^distant.dictionaries: type {name!r} {message}"):
        check_type_name(name, ("Chemical", "Disease"))
    check_type_name("CellLine2", ("Chemical", "Disease"))  # the rule of docs/design.md s.3 (labels.TYPE_NAME)


def test_param_errors() -> None:
    d = {"Gene": ("g.txt", _names("CD4")), "Virus": ("v.txt", _names("HIV"))}
    with pytest.raises(DistantError, match=r"distant.priority=\['Virus'\]: must list each dictionary type once"):
        build_lexicon(d, MatchRules(priority=("Virus",)))
    with pytest.raises(DistantError, match=r"distant.max_tokens=0: allowed: an integer >= 1"):
        MatchRules(max_tokens=0)
    with pytest.raises(DistantError, match=r"distant.case_sensitive_max_chars=-1"):
        MatchRules(case_sensitive_max_chars=-1)
    with pytest.raises(DistantError, match=r"distant.dictionaries: no dictionary given"):
        build_lexicon({})


def test_stop_list_naming_nothing_and_a_type_left_empty() -> None:
    d = {"Gene": ("g.txt", _names("CD4", "ER"))}
    with pytest.raises(DistantError, match=r"^stop.txt: the stop list names nothing in the dictionaries \(none of "
                                           r"its 2 entries"):
        build_lexicon(d, stop=("stop.txt", _names("RT", "CT")))
    lex = build_lexicon(d, stop=("stop.txt", _names("RT", "ER")))
    assert lex.stop_unused == ["RT"] and _texts(lex, "Gene") == ["CD4"]
    with pytest.raises(DistantError, match=r"^g.txt: no Gene name is left after the rules \(in the stop list: 2\)"):
        build_lexicon(d, stop=("stop.txt", _names("CD4", "ER")))


def test_load_lexicon_paths_relative_to_data_dir(tmp_path: Path) -> None:
    (tmp_path / "dicts").mkdir()
    (tmp_path / "dicts" / "genes.txt").write_text("CD4\nER\n", encoding="utf-8")
    stop = tmp_path / "stop.txt"
    stop.write_text("# ambiguous\nER\n", encoding="utf-8")
    lex = load_lexicon({"Gene": "dicts/genes.txt"}, stop=stop, base_dir=tmp_path)  # absolute stop path
    assert _texts(lex, "Gene") == ["CD4"] and lex.stop_source == str(stop)
    assert lex.types["Gene"].source == str(tmp_path / "dicts" / "genes.txt")
    lex = load_lexicon({"Gene": "dicts/genes.txt"}, stop=["er"], base_dir=tmp_path)  # inline stop list
    assert _texts(lex, "Gene") == ["CD4"] and lex.stop_source == "distant.stop"
    with pytest.raises(DistantError, match=r"distant.dictionaries.Virus='.*viruses.txt': dictionary file not found"):
        load_lexicon({"Gene": "dicts/genes.txt", "Virus": "viruses.txt"}, base_dir=tmp_path)
    with pytest.raises(DistantError, match=r"type 'Chemical' clashes"):  # checked before any file is read
        load_lexicon({"Chemical": "missing.txt"}, gold_types=("Chemical",), base_dir=tmp_path)
