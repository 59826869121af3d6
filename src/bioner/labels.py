"""Label spaces, label views and the test-set table (docs/design.md s.3, the label-space rule).

5-tag ids are a prefix of 9-tag ids, so a 5-tag prediction id means the same label in both spaces. A test set is
scored only on the types it annotates, and only by a model that predicts at least one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

ENTITY_TYPES_5TAG: tuple[str, ...] = ("Chemical", "Disease")
ENTITY_TYPES_9TAG: tuple[str, ...] = ("Chemical", "Disease", "Virus", "Gene")


def _bio(types: tuple[str, ...]) -> dict[str, int]:
    labels = ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]
    return {label: i for i, label in enumerate(labels)}


LABEL2ID_5TAG: dict[str, int] = _bio(ENTITY_TYPES_5TAG)
LABEL2ID_9TAG: dict[str, int] = _bio(ENTITY_TYPES_9TAG)

#: Record fields holding each label view.
FIELD_5TAG = "decoded_tags"
FIELD_9TAG = "decoded_tags_pseudo_final"


@dataclass(frozen=True)
class LabelScheme:
    """One label view: which record field, which label space."""

    name: str  # "5tag" | "9tag"
    field: str
    label2id: dict[str, int]

    @property
    def id2label(self) -> dict[int, str]:
        return {i: label for label, i in self.label2id.items()}

    @property
    def labels(self) -> list[str]:
        return list(self.label2id)

    @property
    def entity_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(label[2:] for label in self.label2id if label != "O"))


SCHEME_5TAG = LabelScheme("5tag", FIELD_5TAG, LABEL2ID_5TAG)
SCHEME_9TAG = LabelScheme("9tag", FIELD_9TAG, LABEL2ID_9TAG)


@dataclass(frozen=True)
class TestSet:
    """A test set, the label view it is scored on and the entity types it annotates (gold)."""

    name: str
    path: str  # relative to the data root (Hub layout)
    field: str
    annotated_types: tuple[str, ...]

    def scorable_by(self, model_types: tuple[str, ...] | set[str]) -> bool:
        """The label-space rule: a model can be scored here if it predicts any type this test set annotates."""
        return any(t in model_types for t in self.annotated_types)


# Each test set is gold only for its own types: predictions of other types are set to O before scoring.
TEST_SETS: dict[str, TestSet] = {
    "test_bc5cdr": TestSet("test_bc5cdr", "bc5cdr/bc5cdr_test.jsonl", FIELD_5TAG, ("Chemical", "Disease")),
    "test_pubmed": TestSet("test_pubmed", "pubmed/pubmed_test.jsonl", FIELD_9TAG, ("Virus", "Gene")),
}

#: The five files of the Hub dataset, relative to the data root.
DATA_FILES: dict[str, str] = {
    "train": "bc5cdr/bc5cdr_train.jsonl",
    "validation": "bc5cdr/bc5cdr_validation.jsonl",
    "test_bc5cdr": "bc5cdr/bc5cdr_test.jsonl",
    "silver": "pubmed/pubmed_scrapping.jsonl",
    "test_pubmed": "pubmed/pubmed_test.jsonl",
}


def entity_type(label: str) -> str | None:
    """'B-Gene' -> 'Gene', 'O' -> None."""
    return None if label == "O" else label[2:]


def restrict_to_types(tags: list[str], keep: tuple[str, ...]) -> list[str]:
    """Set labels of types not in `keep` to O (used to score a test set only on its annotated types)."""
    return [t if t == "O" or t[2:] in keep else "O" for t in tags]
