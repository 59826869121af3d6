"""Name filters for dictionaries built from official sources, and the optional plural / hyphen variants.

HGNC aliases and taxonomy names include ordinary words (`large`, `damage`, `April`), roman numerals (`II`),
single letters and bare numbers, which match everywhere in running text. Each rule is a `distant` param; each
dropped name is counted per rule and per source in the dictionary report (bioner.distant.merge).

Common English words are looked up in `wordfreq` (a maintained word-frequency list built from several
corpora: Wikipedia, subtitles, news, books, web text, ...) by Zipf frequency: log10 of occurrences per
billion words, so 3 = once per million words, 5 = "great"/"April"-like everyday words. Only one-word names are
looked up: a phrase's combined frequency says little about the phrase.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .dictionary import tokenize_name

#: Roman numerals 1-39 (type II, complex IV, phase III): the ones running text uses.
_ROMAN = re.compile(r"X{0,3}(IX|IV|V?I{0,3})")
_VOWEL_Y = re.compile(r"[aeiou]y$")

NO_WORD = "no letter or digit"
NUMERIC = "a number, roman numeral or single letter"


def is_numeric(tokens: tuple[str, ...]) -> bool:
    """No letter at all (`12`, `3-4`), one letter alone (`A`, `b`), or a roman numeral 1-39 (`II`, `xiv`)."""
    letters = "".join(ch for t in tokens for ch in t if ch.isalpha())
    if not letters:
        return True
    word = "".join(tokens)
    if len(word) == 1:
        return True
    return len(tokens) == 1 and (word.isupper() or word.islower()) and bool(_ROMAN.fullmatch(word.upper()))


def is_common_word(tokens: tuple[str, ...], zipf: float, *, capitalised_only: bool = False) -> bool:
    """A one-word, letters-only name whose (case-folded) English Zipf frequency is at least `zipf`; with
    `capitalised_only`, only names with a capital letter count (a lowercase name is the word itself)."""
    if len(tokens) != 1 or not tokens[0].isalpha() or (capitalised_only and tokens[0].islower()):
        return False
    from wordfreq import zipf_frequency  # imported on first use: its word tables are slow to load

    return zipf_frequency(tokens[0], "en") >= zipf


@dataclass(frozen=True)
class NameFilters:
    """The rules (docs/distant.md); a source with `filters: false` (a hand list by default) skips them."""

    min_chars: int = 2  # characters, spaces not counted
    drop_numeric: bool = True
    common_word_zipf: float = 2.5  # one-word names at least this frequent in English are dropped; 0 = off
    plural_variants: bool = False
    hyphen_variants: bool = False

    def reason(self, text: str, tokens: tuple[str, ...]) -> str | None:
        """Why the name is dropped (a report key), or None when it is kept."""
        if not any(t[0].isalnum() for t in tokens):
            return NO_WORD
        if sum(map(len, tokens)) < self.min_chars:
            return f"shorter than {self.min_chars} characters"
        if self.drop_numeric and is_numeric(tokens):
            return NUMERIC
        if self.common_word_zipf > 0 and is_common_word(tokens, self.common_word_zipf):
            return f"common English word (wordfreq Zipf >= {self.common_word_zipf:g})"
        return None

    def variants(self, text: str, tokens: tuple[str, ...]) -> Iterator[tuple[str, str]]:
        """(variant text, kind) for the variants asked for: a plural of the last word, hyphens as spaces/none."""
        last = tokens[-1] if tokens else ""
        if self.plural_variants and len(last) >= 4 and last.isalpha() and last.islower():
            yield text[: len(text) - len(last)] + plural(last), "plural"
        elif self.plural_variants and len(last) >= 2 and last.isalpha() and last[-1].isupper():
            yield text + "s", "plural"  # an acronym: CoV -> CoVs, PEDV -> PEDVs
        if self.hyphen_variants and "-" in tokens:
            spaced = " ".join(tok for tok in tokenize_name(text) if tok != "-")
            yield spaced, "hyphen"
            joined = re.sub(r"\s*-\s*", "", text)
            if tokenize_name(joined) != tokenize_name(spaced):
                yield joined, "hyphen"


def plural(word: str) -> str:
    """English plural of a lowercase word (virus -> viruses, family -> families, phage -> phages)."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and not _VOWEL_Y.search(word):
        return word[:-1] + "ies"
    return word + "s"
