"""The matching rules applied to the dictionaries: which names are kept, how each one matches, which type wins.

Per type, in file order, a name is dropped (and counted, with the reason, for the quality report) when it is
longer than `max_tokens` tokens, when the stop list names it (compared ignoring case), when the same type
already has a name that matches the same spans, or when a higher-priority type has a case-insensitive name
that matches every span it would. Errors (DistantError): an invalid type name or one that clashes with a gold
type, the same name (same tokens) in two types, a priority list that is not a permutation of the types, a stop
list none of whose entries names a dictionary name, a type left with no name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from ..settings.labels import TYPE_NAME_RULE, valid_type_name
from .dictionary import DictName, inline_names, read_names
from .errors import DistantError
from .filters import NameFilters, is_common_word
from .merge import build_dictionaries, resolve


def fold(token: str) -> str:
    """Case folding for case-insensitive matching (token by token, so a length change is harmless)."""
    return token.casefold()


@dataclass(frozen=True)
class MatchRules:
    """The matching rules; docs/distant.md gives each one's trade-off."""

    max_tokens: int = 6  # longest name, in corpus tokens; longer names are dropped
    case_sensitive_max_chars: int = 4  # names of at most this many characters match case-sensitively
    priority: tuple[str, ...] = ()  # types, first wins a span two types claim; () = dictionary order
    #: a one-word name with a capital letter whose lowercase form is at least this frequent in English (wordfreq
    #: Zipf) matches only as written, whatever its length (`PIGS` never matches "pigs"); 0 = off
    case_sensitive_word_zipf: float = 0.0

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise DistantError(f"distant.max_tokens={self.max_tokens}: allowed: an integer >= 1")
        if self.case_sensitive_max_chars < 0:
            raise DistantError(f"distant.case_sensitive_max_chars={self.case_sensitive_max_chars}: "
                               "allowed: an integer >= 0 (0 = every name case-insensitive)")

    def case_sensitive(self, name: DictName) -> bool:
        """Characters are counted without spaces, so "IL-2" and "IL - 2" (the same tokens) match alike."""
        if sum(map(len, name.tokens)) <= self.case_sensitive_max_chars:
            return True
        return self.case_sensitive_word_zipf > 0 and is_common_word(name.tokens, self.case_sensitive_word_zipf,
                                                                   capitalised_only=True)


class Entry(NamedTuple):
    """A kept name: its type, how it matches and the trie path (folded tokens)."""

    type: str
    name: DictName
    case_sensitive: bool
    key: tuple[str, ...]


@dataclass
class TypeLexicon:
    """One type's kept names and its dropped names, by reason."""

    type: str
    source: str
    names_read: int
    entries: list[Entry] = field(default_factory=list)
    dropped: dict[str, list[DictName]] = field(default_factory=dict)

    def drop(self, reason: str, name: DictName) -> None:
        self.dropped.setdefault(reason, []).append(name)


@dataclass
class Lexicon:
    """Every type's names after the rules, types in priority order."""

    types: dict[str, TypeLexicon]
    rules: MatchRules
    gold_types: tuple[str, ...] = ()  # what the gold view of a corpus may hold (its label space; () = any type)
    stop_source: str | None = None
    stop_entries: int = 0
    stop_unused: list[str] = field(default_factory=list)
    sources_report: dict[str, Any] = field(default_factory=dict)  # bioner.distant.merge's dictionary report

    @property
    def priority(self) -> tuple[str, ...]:
        return tuple(self.types)

    def entries(self) -> list[Entry]:
        return [e for t in self.types.values() for e in t.entries]


def check_type_name(name: str, gold_types: Sequence[str], param: str = "distant.dictionaries") -> None:
    """A dictionary type must be a valid type name (labels.TYPE_NAME_RULE: it becomes `B-<type>`/`I-<type>` and
    metric keys like `pubmed_f1_<type>`) and differ from every gold type."""
    if not valid_type_name(name):
        raise DistantError(f"{param}: type {name!r} is not a valid label fragment; allowed: {TYPE_NAME_RULE} "
                           "(it becomes B-<type>/I-<type>)")
    clash = [g for g in gold_types if g.casefold() == name.casefold()]
    if clash:
        raise DistantError(f"{param}: type {name!r} clashes with the gold type {clash[0]!r}; a dictionary "
                           "labels types the gold data does not annotate. Fix: rename it or drop it")


def _ordered_types(types: Sequence[str], priority: tuple[str, ...]) -> list[str]:
    if not priority:
        return list(types)
    if sorted(priority) != sorted(types):
        raise DistantError(f"distant.priority={list(priority)}: must list each dictionary type once; "
                           f"allowed: an order of {list(types)}")
    return list(priority)


def build_lexicon(dictionaries: Mapping[str, tuple[str, list[DictName]]], rules: MatchRules | None = None,
                  stop: tuple[str, list[DictName]] | None = None, gold_types: Sequence[str] = ()) -> Lexicon:
    """Apply `rules` and the stop list to `dictionaries` ({type: (source, names)}); see the module docstring.

    `stop` is (source, names) or None; `gold_types` are the types the gold data annotates (a dictionary type
    may not repeat one).
    """
    rules = rules or MatchRules()
    if not dictionaries:
        raise DistantError("distant.dictionaries: no dictionary given; allowed: {<type>: <file>, ...}")
    for t in dictionaries:
        check_type_name(t, gold_types)
    stop_keys: dict[tuple[str, ...], DictName] = {}
    if stop is not None:
        for s in stop[1]:
            stop_keys.setdefault(tuple(map(fold, s.tokens)), s)
    stop_used: set[tuple[str, ...]] = set()
    exact: dict[str, dict[tuple[str, ...], DictName]] = {}  # per type: first name of each token sequence
    insensitive_owner: dict[tuple[str, ...], str] = {}  # folded key -> the higher-priority type matching it
    types: dict[str, TypeLexicon] = {}
    for t in _ordered_types(list(dictionaries), rules.priority):
        source, names = dictionaries[t]
        exact[t] = {}
        for n in names:
            exact[t].setdefault(n.tokens, n)
        _check_one_type_per_name(t, dictionaries, exact)
        lex = _type_lexicon(t, source, names, rules, stop_keys, stop_used, insensitive_owner)
        for e in lex.entries:
            if not e.case_sensitive:
                insensitive_owner.setdefault(e.key, t)
        types[t] = lex
    lexicon = Lexicon(types, rules, tuple(gold_types))
    if stop is not None:
        _attach_stop_list(lexicon, stop, stop_keys, stop_used)
    return lexicon


def _check_one_type_per_name(t: str, dictionaries: Mapping[str, tuple[str, list[DictName]]],
                             exact: dict[str, dict[tuple[str, ...], DictName]]) -> None:
    """The same name in two types: an error, reported at the later (lower-priority) one."""
    source, names = dictionaries[t]
    for u in exact:
        if u == t:
            continue
        for n in names:
            prev = exact[u].get(n.tokens)
            if prev is not None:
                raise DistantError(
                    f"{source}:{n.line}: the name {n.text!r} is also a {u} name ({dictionaries[u][0]}:"
                    f"{prev.line}); a name may belong to one type. Fix: remove it from one dictionary")


def _type_lexicon(t: str, source: str, names: list[DictName], rules: MatchRules,
                  stop_keys: dict[tuple[str, ...], DictName], stop_used: set[tuple[str, ...]],
                  insensitive_owner: dict[tuple[str, ...], str]) -> TypeLexicon:
    """One type's kept names, each dropped one under its reason (the rules in order); records stop-list hits."""
    lex = TypeLexicon(t, source, len(names))
    seen_cs: set[tuple[str, ...]] = set()  # exact tokens of kept case-sensitive names
    seen_ci: set[tuple[str, ...]] = set()  # folded tokens of kept case-insensitive names
    for n in names:
        key = tuple(map(fold, n.tokens))
        if key == n.tokens:
            key = n.tokens  # share the tuple (most names): less memory for big dictionaries
        cs = rules.case_sensitive(n)
        if len(n.tokens) > rules.max_tokens:
            lex.drop(f"longer than {rules.max_tokens} tokens", n)
            continue
        if key in stop_keys:
            stop_used.add(key)
            lex.drop("in the stop list", n)
            continue
        if key in seen_ci or (cs and n.tokens in seen_cs):
            lex.drop("duplicate within the type (matches the same spans as an earlier line)", n)
            continue
        higher = insensitive_owner.get(key)
        if higher is not None and higher != t:
            lex.drop(f"shadowed by a {higher} name (priority; same tokens ignoring case)", n)
            continue
        (seen_cs if cs else seen_ci).add(n.tokens if cs else key)
        lex.entries.append(Entry(t, n, cs, key))
    if not lex.entries:
        reasons = "; ".join(f"{k}: {len(v)}" for k, v in lex.dropped.items())
        raise DistantError(f"{source}: no {t} name is left after the rules ({reasons}). Fix: check the "
                           "dictionary, distant.max_tokens and the stop list")
    return lex


def _attach_stop_list(lexicon: Lexicon, stop: tuple[str, list[DictName]],
                      stop_keys: dict[tuple[str, ...], DictName], stop_used: set[tuple[str, ...]]) -> None:
    lexicon.stop_source, lexicon.stop_entries = stop[0], len(stop[1])
    lexicon.stop_unused = [s.text for k, s in stop_keys.items() if k not in stop_used]
    if stop[1] and not stop_used:
        raise DistantError(f"{stop[0]}: the stop list names nothing in the dictionaries (none of its "
                           f"{len(stop[1])} entries is a dictionary name). Fix: check the file, or leave "
                           "the stop list out")


def load_lexicon(dictionaries: Mapping[str, Any], rules: MatchRules | None = None,
                 stop: str | os.PathLike | Sequence[str] | None = None, gold_types: Sequence[str] = (),
                 base_dir: str | os.PathLike | None = None, *, filters: NameFilters | None = None,
                 clash: Literal["priority", "drop"] = "priority") -> Lexicon:
    """Build {type: source(s)} (bioner.distant.merge: read, filter, merge, clashes) and read the stop list (a
    file, or a list of names), then `build_lexicon`; the dictionary report is `Lexicon.sources_report`."""
    rules = rules or MatchRules()
    for t in dictionaries:  # before any file is read: a bad type name is a params error
        check_type_name(t, gold_types)
    order = _ordered_types(list(dictionaries), rules.priority)
    merged, sources_report = build_dictionaries(dictionaries, filters=filters, clash=clash, priority=order,
                                                base_dir=base_dir)
    stop_names = None
    if isinstance(stop, (str, os.PathLike)):
        path = resolve(stop, base_dir)
        stop_names = (str(path), read_names(path, what="stop list", param="distant.stop", allow_ids=False))
    elif stop:
        stop_names = ("distant.stop", inline_names(list(stop), "distant.stop"))
    lexicon = build_lexicon(merged, rules, stop_names, gold_types)
    lexicon.sources_report = sources_report
    return lexicon
