"""Token-trie matching (bioner.distant.matcher): longest first, left to right, case rules, priority, blocks."""

from __future__ import annotations

import random

from bioner.distant.dictionary import DictName, tokenize_name
from bioner.distant.lexicon import MatchRules, build_lexicon, fold
from bioner.distant.matcher import Matcher


def _names(*texts: str) -> list[DictName]:
    return [DictName(t, tokenize_name(t), i) for i, t in enumerate(texts, start=1)]


def _matcher(rules: MatchRules | None = None, **types: tuple[str, ...]) -> Matcher:
    return Matcher(build_lexicon({t: (f"{t}.txt", _names(*n)) for t, n in types.items()}, rules))


def _found(m: Matcher, text: str, blocked: list[bool] | None = None) -> list[tuple[str, str]]:
    toks = text.split()
    return [(" ".join(toks[i:j]), m.entries[k].type) for i, j, k in m.find(toks, blocked)]


def test_longest_match_first_left_to_right() -> None:
    m = _matcher(Virus=("hepatitis B", "hepatitis B virus", "B virus", "virus X"))
    assert _found(m, "the hepatitis B virus X protein") == [("hepatitis B virus", "Virus")]
    # left to right: "B virus" starts before "virus X" and wins the overlap
    assert _found(m, "a B virus X") == [("B virus", "Virus")]
    assert _found(m, "hepatitis B and virus X") == [("hepatitis B", "Virus"), ("virus X", "Virus")]


def test_longest_wins_across_types() -> None:
    m = _matcher(Gene=("HBV polymerase",), Virus=("HBV",))
    assert _found(m, "HBV polymerase of HBV") == [("HBV polymerase", "Gene"), ("HBV", "Virus")]


def test_case_rules() -> None:
    m = _matcher(Virus=("HIV", "Ebola virus"))
    assert _found(m, "HIV hiv Hiv EBOLA VIRUS ebola Virus") == [
        ("HIV", "Virus"), ("EBOLA VIRUS", "Virus"), ("ebola Virus", "Virus")]
    m = _matcher(MatchRules(case_sensitive_max_chars=0), Virus=("HIV",))
    assert _found(m, "HIV hiv Hiv") == [("HIV", "Virus"), ("hiv", "Virus"), ("Hiv", "Virus")]


def test_a_case_sensitive_miss_falls_back_to_a_shorter_match() -> None:
    m = _matcher(Gene=("p53", "p53 ab"))  # "p53 ab" has 5 characters: case-insensitive
    assert _found(m, "p53 AB") == [("p53 AB", "Gene")]
    m = _matcher(Gene=("p53", "p5 ab"))  # "p5 ab" has 4: case-sensitive, so "P5 ab" does not match
    assert _found(m, "P5 ab p5 ab") == [("p5 ab", "Gene")]


def test_priority_on_a_tie() -> None:
    rules = MatchRules(case_sensitive_max_chars=3, priority=("Virus", "Gene"))
    m = _matcher(rules, Gene=("hbv x", "CD4"), Virus=("HbV x",))  # both 4 characters: case-insensitive, same fold
    assert m.lexicon.types["Gene"].dropped  # the Gene name is shadowed: Virus wins every span it matches
    assert _found(m, "HBV X") == [("HBV X", "Virus")]
    # a case-sensitive higher-priority name wins only where its case matches
    m = _matcher(MatchRules(case_sensitive_max_chars=3, priority=("Virus", "Gene")), Gene=("hbv",),
                 Virus=("HBV",))
    assert _found(m, "HBV hbv") == [("HBV", "Virus"), ("hbv", "Gene")]
    m = _matcher(MatchRules(case_sensitive_max_chars=0, priority=("Gene", "Virus")), Gene=("CMV x",),
                 Virus=("cmv X", "HIV"))
    assert _found(m, "Cmv x") == [("Cmv x", "Gene")]


def test_blocked_tokens_are_never_matched() -> None:
    m = _matcher(Gene=("insulin", "insulin receptor", "receptor kinase"))
    toks = ["insulin", "receptor", "kinase"]
    assert _found(m, "insulin receptor kinase", [False, True, False]) == [("insulin", "Gene")]
    assert _found(m, "insulin receptor kinase", [False, False, True]) == [("insulin receptor", "Gene")]
    assert _found(m, "insulin receptor kinase", [True, False, False]) == [("receptor kinase", "Gene")]
    assert m.find(toks, [True, True, True]) == []


def test_max_tokens() -> None:
    m = _matcher(MatchRules(max_tokens=2), Gene=("a b c", "a b"))
    assert _found(m, "a b c") == [("a b", "Gene")]


def test_tags_iob2_and_base() -> None:
    m = _matcher(Gene=("insulin receptor", "CD4"), Virus=("HIV",))
    tags, spans = m.tags(["HIV", "binds", "CD4", "and", "insulin", "receptor"])
    assert tags == ["B-Virus", "O", "B-Gene", "O", "B-Gene", "I-Gene"] and len(spans) == 3
    base = ["O", "O", "B-Chemical", "O", "O", "B-Disease"]
    tags, _ = m.tags(["HIV", "binds", "CD4", "and", "insulin", "receptor"], base)
    assert tags == ["B-Virus", "O", "B-Chemical", "O", "O", "B-Disease"]  # gold spans kept, never cut


def _brute_force(entries, tokens: list[str], blocked: list[bool]) -> list[tuple[int, int, int]]:
    """Reference: at each free position try every name; the longest wins, then the lowest entry index."""
    out, i = [], 0
    while i < len(tokens):
        best = None
        for k, e in enumerate(entries):
            j = i + len(e.key)
            if j > len(tokens) or any(blocked[i:j]):
                continue
            window = tokens[i:j]
            ok = tuple(window) == e.name.tokens if e.case_sensitive else tuple(map(fold, window)) == e.key
            if ok and (best is None or j > best[1]):
                best = (i, j, k)
        if best:
            out.append(best)
            i = best[1]
        else:
            i += 1
    return out


def test_agrees_with_brute_force_on_random_inputs() -> None:
    rng = random.Random(7)
    vocab = ["ab", "AB", "Ab", "cd", "CD", "e", "E", "fgh", "FGH", "-", "1", "x"]
    for _ in range(60):
        types = {}
        used: set[tuple[str, ...]] = set()
        for t in ("Virus", "Gene", "Species"):
            names = []
            for _ in range(rng.randint(1, 8)):
                toks = tuple(rng.choice(vocab) for _ in range(rng.randint(1, 4)))
                if toks not in used:  # the same name in two types is an error, not a tie
                    used.add(toks)
                    names.append(" ".join(toks))
            types[t] = [*names, f"only{t}"]  # a name no other type shadows: no type is left empty
        rules = MatchRules(max_tokens=rng.randint(2, 4), case_sensitive_max_chars=rng.randint(0, 5),
                           priority=tuple(rng.sample(list(types), 3)))
        m = Matcher(build_lexicon({t: (t, _names(*n)) for t, n in types.items()}, rules))
        for _ in range(20):
            toks = [rng.choice(vocab) for _ in range(rng.randint(0, 15))]
            blocked = [rng.random() < 0.15 for _ in toks]
            assert m.find(toks, blocked) == _brute_force(m.entries, toks, blocked)
            assert m.find(toks) == _brute_force(m.entries, toks, [False] * len(toks))
