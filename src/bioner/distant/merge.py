"""Build each type's dictionary from its sources: read, filter, merge with provenance, resolve clashes.

Per type, sources are read in the order given; a name (its corpus tokens) that several sources or lines give
is one name whose `sources` lists every source that gave it (the first id is kept). A name in two types'
dictionaries (the same tokens) is a clash: with `clash=priority` the type first in the priority order keeps
it, with `clash=drop` every type loses it; both are counted and listed (a few examples) in the report.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..settings.dictionaries import SourceSpec, TaxdumpSource, parse_sources
from .dictionary import DictName, tokenize_name
from .errors import DistantError
from .filters import NameFilters
from .sources import read_source

#: examples listed per rule / for clashes in the report (the report stays small: counts, not name lists).
EXAMPLES = 5
#: longest example name shown, in characters (a huge line must not make a huge report).
EXAMPLE_CHARS = 60


def _short(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "..."


def resolve(path: str | os.PathLike, base_dir: str | os.PathLike | None) -> Path:
    """A params path: absolute as given, relative to `base_dir` (the fetched data directory) otherwise."""
    p = Path(path)
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p


def missing_file(where: str, spec: SourceSpec | None, path: Path) -> DistantError:
    """The one-line error of a named file that is not there (`spec` None: the stop list)."""
    state = "is a directory" if path.is_dir() else "not found"
    what = "stop list" if spec is None else "dictionary" if spec.format == "list" else f"{spec.format} source"
    return DistantError(f"{where}={str(path)!r}: {what} file {state}. Fix: give an existing file, absolute or "
                        "relative to the data directory")


def source_label(spec: SourceSpec) -> str:
    """How the report and the dictionary files name a source: `format:path` as the settings write it, and
    the name fields read where the format has them (one file can be several sources: `hgnc:x.tsv[symbol]`)."""
    fields = getattr(spec, "fields", None)
    return f"{spec.format}:{spec.path}" + (f"[{','.join(fields)}]" if fields else "")


@dataclass
class SourceCount:
    """Per-source counts: names read, dropped by rule (with examples), variants added, names it gave."""

    label: str
    file: str
    read: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    variants: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0  # names this source gave that the type already had (merged, provenance added)

    def drop(self, rule: str, text: str) -> None:
        self.dropped[rule] += 1
        ex = self.examples.setdefault(rule, [])
        if len(ex) < EXAMPLES:
            ex.append(_short(text))

    def report(self, kept: int) -> dict[str, Any]:
        return {"source": self.label, "names_read": self.read, "names_kept": kept,
                "dropped": dict(self.dropped), "dropped_examples": self.examples,
                "variants_added": dict(self.variants), "already_given_by_an_earlier_source": self.duplicates}


@dataclass
class TypeNames:
    """One type's merged names (first occurrence order) and its per-source counts."""

    type: str
    names: dict[tuple[str, ...], DictName] = field(default_factory=dict)
    counts: list[SourceCount] = field(default_factory=list)
    clash_dropped: int = 0

    @property
    def label(self) -> str:
        """The files read, joined with ` + ` (one hand list: its path, as before sources were typed)."""
        return " + ".join(c.file for c in self.counts)


def _add(tn: TypeNames, sc: SourceCount, text: str, tokens: tuple[str, ...], cid: str | None, line: int) -> None:
    have = tn.names.get(tokens)
    if have is None:
        tn.names[tokens] = DictName(text, tokens, line, cid, (sc.label,))
    else:
        sc.duplicates += 1
        if sc.label not in have.sources:
            tn.names[tokens] = have._replace(sources=(*have.sources, sc.label))


def read_type(t: str, specs: Sequence[SourceSpec], filters: NameFilters,
              base_dir: str | os.PathLike | None) -> TypeNames:
    """Read, filter and merge one type's sources (each file must exist: a one-line error otherwise)."""
    tn = TypeNames(t)
    base_filters = filters
    for i, spec in enumerate(specs):
        own = {k: getattr(spec, k) for k in ("min_chars", "common_word_zipf") if getattr(spec, k) is not None}
        filters = replace(base_filters, **own) if own else base_filters
        path = resolve(spec.path, base_dir)
        where = f"distant.dictionaries.{t}" + (f"[{i}]" if len(specs) > 1 else "")
        if not (path.exists() if isinstance(spec, TaxdumpSource) else path.is_file()):
            raise missing_file(where, spec, path)
        label = source_label(spec)
        if any(c.label == label for c in tn.counts):  # the same source twice (other options): keep them apart
            label += f"#{i + 1}"
        sc = SourceCount(label, str(path))
        tn.counts.append(sc)
        for text, cid, line in read_source(spec, path, where):
            sc.read += 1
            text = " ".join(text.split())
            tokens = tokenize_name(text)
            if spec.filters:
                why = filters.reason(text, tokens)
                if why is not None:
                    sc.drop(why, text)
                    continue
            _add(tn, sc, text, tokens, cid, line)
            if spec.filters:
                for vtext, kind in filters.variants(text, tokens):
                    vtok = tokenize_name(vtext)
                    if vtok not in tn.names:
                        sc.variants[kind] += 1
                        _add(tn, sc, vtext, vtok, cid, line)
    return tn


def resolve_clashes(types: dict[str, TypeNames], order: Sequence[str],
                    clash: Literal["priority", "drop"]) -> dict[str, Any]:
    """Remove clashing names per the rule; return the clash report (count per type pair, a few examples)."""
    owners: dict[tuple[str, ...], list[str]] = {}
    for t in order:
        for tokens in types[t].names:
            owners.setdefault(tokens, []).append(t)
    pairs: Counter[str] = Counter()
    examples: dict[str, str | None] = {}  # name -> the type that kept it (None: dropped from every type)
    total = 0
    for tokens, ts in owners.items():
        if len(ts) < 2:
            continue
        total += 1
        pairs[" / ".join(ts)] += 1
        keep = ts[0] if clash == "priority" else None
        if len(examples) < 4 * EXAMPLES:
            examples[_short(types[ts[0]].names[tokens].text)] = keep
        for t in ts:
            if t != keep:
                del types[t].names[tokens]
                types[t].clash_dropped += 1
    return {"rule": clash, "names": total, "by_types": dict(pairs), "examples": examples}


def build_dictionaries(dictionaries: Mapping[str, Any], *, filters: NameFilters | None = None,
                       clash: Literal["priority", "drop"] = "priority", priority: Sequence[str] = (),
                       base_dir: str | os.PathLike | None = None) -> tuple[dict[str, tuple[str, list[DictName]]],
                                                                          dict[str, Any]]:
    """{type: source(s)} -> ({type: (sources label, names)}, dictionary report). Types in `priority` order."""
    filters = filters or NameFilters()
    order = list(priority) or list(dictionaries)
    types: dict[str, TypeNames] = {}
    for t in order:
        try:
            specs = parse_sources(dictionaries[t], f"distant.dictionaries.{t}")
        except ValueError as e:
            raise DistantError(str(e)) from None
        types[t] = read_type(t, specs, filters, base_dir)
    clashes = resolve_clashes(types, order, clash)
    for t, tn in types.items():
        if tn.names:
            continue
        if tn.clash_dropped:
            raise DistantError(f"distant.dictionaries.{t}: no {t} name is left after the clash rule "
                               f"(distant.clash={clash}: {tn.clash_dropped} names are also names of another "
                               "type). Fix: check the sources, distant.priority or distant.clash")
        why = "; ".join(f"{c.label}: " + ", ".join(f"{r} {k}" for r, k in c.dropped.items()) for c in tn.counts)
        raise DistantError(f"distant.dictionaries.{t}: no {t} name is left after the filters ({why}). Fix: check "
                           "the sources and the filter settings (distant.min_chars, drop_numeric, "
                           "common_word_zipf)")
    report: dict[str, Any] = {"filters": {k: getattr(filters, k) for k in filters.__dataclass_fields__},
                              "clashes": clashes, "types": {}}
    for t, tn in types.items():
        kept = Counter(s for n in tn.names.values() for s in n.sources[:1])
        report["types"][t] = {"names": len(tn.names), "lost_to_clashes": tn.clash_dropped,
                              "sources": [c.report(kept[c.label]) for c in tn.counts]}
    return {t: (tn.label, list(tn.names.values())) for t, tn in types.items()}, report
