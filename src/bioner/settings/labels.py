"""Entity types, label spaces, label views and the test-set table (docs/design.md s.3, the label-space rule).

Entity types are data: a run's types are `sources.gold` then `sources.silver` (`EntityTypes`, built by
`Settings.entity_types`). A label view is a record field plus a label space: the gold view (`decoded_tags`)
holds the gold types, the gold+silver view (`decoded_tags_pseudo_final`) gold and silver types. Labels are
`O` then `B-T`, `I-T` per type in that order, so the gold-only ids are a prefix of the gold+silver ids and an id
means the same label in both spaces. A test set is scored only on the types it annotates (`TestSet`), and only
by a model that predicts at least one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

#: Record fields holding each label view.
FIELD_GOLD = "decoded_tags"
FIELD_FULL = "decoded_tags_pseudo_final"

#: A label view: gold types only, or gold and silver types.
View = Literal["gold", "gold+silver"]
VIEW_FIELDS: dict[str, str] = {"gold": FIELD_GOLD, "gold+silver": FIELD_FULL}

#: An entity type name becomes part of labels (B-CellLine), metric keys (pubmed_f1_CellLine), dvclive file names
#: and `dvc exp show` columns: a letter, then letters and digits only ('-', '_', '.', '/', spaces would be
#: taken for separators by one of those).
TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
TYPE_NAME_RULE = "a letter followed by letters or digits, not 'O' (e.g. Species, CellLine; not Cell-Line, Cell_Line)"

#: A test set's name prefixes its metric keys (`<name>_f1_<Type>`), so it may not hold the `_` separator.
TEST_SET_NAME = re.compile(r"[a-z][a-z0-9]*")
TEST_SET_NAME_RULE = "lowercase letters and digits, starting with a letter (e.g. bc5cdr, s1000dev)"

#: Key of the checkpoint's config.json recording the run's entity types: {"gold": [...], "silver": [...]}.
CONFIG_TYPES_KEY = "bioner_entity_types"


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def valid_type_name(name: object) -> bool:
    """The type-name rule (TYPE_NAME_RULE)."""
    return isinstance(name, str) and TYPE_NAME.fullmatch(name) is not None and name != "O"


def check_type_names(names: Sequence[str], where: str = "") -> None:
    """ValueError unless every name is a valid type name and none repeats (ignoring case)."""
    bad = [n for n in names if not valid_type_name(n)]
    if bad:
        raise ValueError(f"{_at(where)}invalid type name(s) {bad}; a type name is {TYPE_NAME_RULE}")
    seen: dict[str, str] = {}
    for n in names:
        if n.lower() in seen:
            also = f" (as {seen[n.lower()]!r})" if seen[n.lower()] != n else ""
            raise ValueError(f"{_at(where)}type {n!r} is listed twice{also}")
        seen[n.lower()] = n


def check_silver_types(gold: Sequence[str], silver: Sequence[str], where: str = "") -> None:
    """ValueError if a silver type is also a gold type (ignoring case)."""
    by_lower = {t.lower(): t for t in gold}
    clash = [t for t in silver if t.lower() in by_lower]
    if clash:
        raise ValueError(f"{_at(where)}{clash} already gold type(s) (sources.gold = {list(gold)}); a silver "
                         "type must be one the gold corpus does not annotate")


def bio_label2id(types: Iterable[str]) -> dict[str, int]:
    """O, then B-T, I-T for each type in order: id 0 is O, type k has ids 2k+1 (B) and 2k+2 (I)."""
    labels = ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]
    return {label: i for i, label in enumerate(labels)}


@dataclass(frozen=True)
class LabelScheme:
    """One label view: which record field, which label space."""

    view: View
    field: str
    label2id: dict[str, int]

    @property
    def name(self) -> str:
        """'5tag', '9tag', ...: the number of labels (what config_snapshot.yaml records)."""
        return f"{len(self.label2id)}tag"

    @property
    def id2label(self) -> dict[int, str]:
        return {i: label for label, i in self.label2id.items()}

    @property
    def labels(self) -> list[str]:
        return list(self.label2id)

    @property
    def entity_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(label[2:] for label in self.label2id if label != "O"))


@dataclass(frozen=True)
class EntityTypes:
    """A run's entity types: what the gold corpus annotates, then what the silver (dictionary) labels add.

    Validated on construction: valid names, no repeats, no silver type that is also a gold type (ignoring case).
    """

    gold: tuple[str, ...]
    silver: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.gold:
            raise ValueError("sources.gold: at least one gold entity type is needed")
        check_type_names(self.gold, "sources.gold")
        check_type_names(self.silver, "sources.silver")
        check_silver_types(self.gold, self.silver, "sources.silver")

    @property
    def all(self) -> tuple[str, ...]:
        return self.gold + self.silver

    def scheme(self, view: View) -> LabelScheme:
        """The label view `view` of these types: gold view = gold types, gold+silver view = all of them."""
        return LabelScheme(view, VIEW_FIELDS[view], bio_label2id(self.gold if view == "gold" else self.all))

    def as_config(self) -> dict[str, list[str]]:
        return {"gold": list(self.gold), "silver": list(self.silver)}


#: The seed's schema, O + B/I- of Chemical, Disease (ids 0-4), Virus, Gene (ids 5-8): the defaults of
#: sources.gold / sources.silver. Code reads a run's types from its settings (`Settings.entity_types`).
SEED_TYPES = EntityTypes(("Chemical", "Disease"), ("Virus", "Gene"))


def check_dictionary_types(silver: Sequence[str], dictionary_types: Sequence[str]) -> None:
    """ValueError unless the dictionary types (distant.dictionaries keys) are exactly sources.silver's.

    With `distant.mode=relabel` the dictionaries produce the silver labels, so they name the silver types; label
    ids follow the order of `sources.silver`, so the two must agree as sets (in any order).
    """
    extra = [t for t in dictionary_types if t not in silver]
    missing = [t for t in silver if t not in dictionary_types]
    if extra or missing:
        parts = ([f"no sources.silver entry for {extra}"] if extra else []) + (
            [f"no dictionary for {missing}"] if missing else [])
        raise ValueError(f"distant.dictionaries types {list(dictionary_types)} and sources.silver {list(silver)} "
                         f"disagree: {'; '.join(parts)}; list each silver type in both")


@dataclass(frozen=True)
class CheckpointTypes:
    """The entity types a checkpoint knows (docs/design.md s.3): the types of its label space, in id order, and
    which types its run called gold (None for a checkpoint not written by `bioner train`)."""

    predicted: tuple[str, ...]
    gold: tuple[str, ...] | None
    run_types: tuple[str, ...]  # the run's gold + silver types (its order ranks the scored types)

    @classmethod
    def from_config(cls, label2id: Mapping[str, int], recorded: Mapping[str, Sequence[str]] | None
                    ) -> CheckpointTypes:
        by_id = sorted(label2id.items(), key=lambda kv: kv[1])
        predicted = tuple(dict.fromkeys(lab[2:] for lab, _ in by_id if lab != "O"))
        if not recorded:
            return cls(predicted, None, predicted)
        gold, silver = tuple(recorded.get("gold") or ()), tuple(recorded.get("silver") or ())
        return cls(predicted, gold, tuple(dict.fromkeys(gold + silver + predicted)))

    def known(self, view: View) -> tuple[str, ...] | None:
        """The types a test file may hold in `view` for this checkpoint: its run's gold types (gold view) or all
        its run's types. None (no check) for a checkpoint that does not record its run's types."""
        if self.gold is None:
            return None
        return self.gold if view == "gold" else self.run_types


@dataclass(frozen=True)
class TestSet:
    """A test file, the label view it is scored on, and the types it is gold for.

    With `types` given, exactly those are scored. Without, it is gold for the types that occur in that view of
    the file (the file says what it annotates), in the role of its view: the gold-view test set for gold types,
    the gold+silver-view test set for silver types only, so a type the checkpoint's run calls gold is never
    scored on the latter. `name` prefixes its metric keys (`<name>_f1`).
    """

    name: str
    path: str  # relative to the data root (Hub layout), or absolute
    view: View
    types: tuple[str, ...] = ()
    about: str = ""  # what the file is, for the model card (its types come from the scores)

    @property
    def field(self) -> str:
        return VIEW_FIELDS[self.view]

    @property
    def prefix(self) -> str:
        """The prefix of this test set's keys in metrics.json (`bc5cdr_f1`): the name without `test_`."""
        return self.name.removeprefix("test_")

    def annotated_types(self, tags: Iterable[Sequence[str]], model: CheckpointTypes) -> tuple[str, ...]:
        """The types scored: `types` if given, else those occurring in `tags` (this test set's view of its
        file), minus the model's gold types for the gold+silver view; ordered as the model's run lists them,
        then as given or by first occurrence."""
        seen: dict[str, None] = dict.fromkeys(self.types)
        if not self.types:
            for seq in tags:
                for t in seq:
                    if t != "O" and t[2:] not in seen:
                        seen[t[2:]] = None
            if self.view == "gold+silver" and model.gold:
                seen = {t: None for t in seen if t not in model.gold}
        rank = {t: i for i, t in enumerate(model.run_types)}
        order = {t: i for i, t in enumerate(seen)}
        return tuple(sorted(seen, key=lambda t: (rank.get(t, len(rank)), order[t])))

    def lacks_its_types(self, tags: Iterable[Sequence[str]]) -> bool:
        """True when `types` are given but no span of any of them is in `tags` (this view of the file): every F1
        would be 0 by construction, most likely the wrong view or file."""
        return bool(self.types) and not any(t[2:] in self.types for seq in tags for t in seq if t != "O")

    @staticmethod
    def scorable(annotated: Iterable[str], model: CheckpointTypes) -> bool:
        """The label-space rule: a model can be scored here if it predicts any type this test set annotates."""
        return any(t in model.predicted for t in annotated)


def canonical_test_set(name: str) -> str:
    """A test set's name as settings key it: 'test_bc5cdr' (the older spelling) -> 'bc5cdr'."""
    return name.removeprefix("test_")


def scored_test_sets(metric_keys: Iterable[str]) -> tuple[str, ...]:
    """The test sets scored in a metrics.json, in its order: every `<name>_f1` key but the validation F1."""
    out = []
    for k in metric_keys:
        name, sep, rest = k.partition("_f1")
        if sep and not rest and name != "val" and TEST_SET_NAME.fullmatch(name):
            out.append(name)
    return tuple(out)


#: The score columns of a row, in display order. A metrics.json key is `<test set prefix>_<column>` (micro) or
#: `<test set prefix>_<column>_<Type>`; metrics.json, the study report, the model card and the CLI read these.
COLUMNS = ("precision", "recall", "f1", "support")


def metric_key(prefix: str, column: str, entity: str | None = None) -> str:
    """`bc5cdr_f1` (micro: entity None or "micro") or `bc5cdr_f1_Chemical`."""
    return f"{prefix}_{column}" if entity in (None, "micro") else f"{prefix}_{column}_{entity}"


#: The five files of the Hub dataset, relative to the data root.
DATA_FILES: dict[str, str] = {
    "train": "bc5cdr/bc5cdr_train.jsonl",
    "validation": "bc5cdr/bc5cdr_validation.jsonl",
    "test_bc5cdr": "bc5cdr/bc5cdr_test.jsonl",
    "silver": "pubmed/pubmed_scrapping.jsonl",
    "test_pubmed": "pubmed/pubmed_test.jsonl",
}


#: The default test sets (`evaluate.test_sets`' defaults). Each test set is gold only for its own types:
#: predictions of other types are set to O before scoring.
TEST_SETS: dict[str, TestSet] = {t.name: t for t in (
    TestSet("bc5cdr", DATA_FILES["test_bc5cdr"], "gold", about="BC5CDR test (BioCreative V CDR)"),
    TestSet("pubmed", DATA_FILES["test_pubmed"], "gold+silver",
            about="PubMed test: 100 sentences; with so few sentences its F1s move by several points between seeds"),
)}


def entity_type(label: str) -> str | None:
    """'B-Gene' -> 'Gene', 'O' -> None."""
    return None if label == "O" else label[2:]


def valid_label(label: str) -> bool:
    """O, or B-/I- followed by a valid type name."""
    return label == "O" or (label[:2] in ("B-", "I-") and valid_type_name(label[2:]))


def restrict_to_types(tags: list[str], keep: tuple[str, ...]) -> list[str]:
    """Set labels of types not in `keep` to O (used to score a test set only on its annotated types)."""
    return [t if t == "O" or t[2:] in keep else "O" for t in tags]
