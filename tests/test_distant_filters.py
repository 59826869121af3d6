"""Name filters of official dictionary sources (length, numbers/letters/roman numerals, common English words),
the plural and hyphen variants, and the rule that a capitalised common word matches only as written."""

from __future__ import annotations

import pytest

from bioner.distant.dictionary import DictName, tokenize_name
from bioner.distant.filters import NUMERIC, NameFilters, is_numeric, plural
from bioner.distant.lexicon import MatchRules, build_lexicon
from bioner.distant.matcher import Matcher


def _reason(f: NameFilters, text: str) -> str | None:
    return f.reason(text, tokenize_name(text))


@pytest.mark.parametrize(("name", "numeric"), [
    ("12", True), ("3-4", True), ("A", True), ("b", True), ("II", True), ("xiv", True), ("XXXIX", True),
    ("CI", False), ("IL", False), ("MDC", False), ("II-1", False), ("E6", False), ("Ii", False), ("type II", False),
])
def test_is_numeric(name: str, numeric: bool) -> None:
    assert is_numeric(tokenize_name(name)) is numeric


def test_reasons() -> None:
    f = NameFilters(min_chars=3, common_word_zipf=4.0)
    assert _reason(f, "(+)") == "no letter or digit"
    assert _reason(f, "p5") == "shorter than 3 characters"
    assert _reason(f, "III") == NUMERIC
    for word in ("large", "damage", "April", "great", "light"):  # everyday words
        assert _reason(f, word) == "common English word (wordfreq Zipf >= 4)", word
    for name in ("ACE2", "TMPRSS2", "coronavirus", "light chain"):  # rare, or a phrase
        assert _reason(f, name) is None, name
    assert _reason(NameFilters(common_word_zipf=0), "great") is None  # 0 = off
    assert _reason(NameFilters(drop_numeric=False, common_word_zipf=0), "II") is None


def test_variants() -> None:
    assert [plural(w) for w in ("virus", "family", "phage", "day", "match")] == [
        "viruses", "families", "phages", "days", "matches"]
    f = NameFilters(plural_variants=True, hyphen_variants=True)
    assert list(f.variants("human coronavirus", tokenize_name("human coronavirus"))) == [
        ("human coronaviruses", "plural")]
    assert list(f.variants("PEDV", ("PEDV",))) == [("PEDVs", "plural")]  # an acronym
    assert list(f.variants("SARS-CoV-2", tokenize_name("SARS-CoV-2"))) == [
        ("SARS CoV 2", "hyphen"), ("SARSCoV2", "hyphen")]
    assert list(NameFilters().variants("human coronavirus", tokenize_name("human coronavirus"))) == []  # off


def _n(text: str) -> DictName:
    return DictName(text, tokenize_name(text), 1)


def test_capitalised_common_word_matches_only_as_written() -> None:
    names = {"Gene": ("g", [_n("PIGS"), _n("APOE")])}
    plain = Matcher(build_lexicon(names, MatchRules(case_sensitive_max_chars=3)))
    strict = Matcher(build_lexicon(names, MatchRules(case_sensitive_max_chars=3, case_sensitive_word_zipf=3.0)))
    toks = ["pigs", "lack", "apoE", "but", "PIGS"]
    assert [s[:2] for s in plain.find(toks)] == [(0, 1), (2, 3), (4, 5)]
    assert [s[:2] for s in strict.find(toks)] == [(2, 3), (4, 5)]  # "pigs" no more; apoE still (not a word)
