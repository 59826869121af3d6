"""Label spaces, label views and the test-set table (bioner.labels)."""

from __future__ import annotations

from bioner.labels import (
    DATA_FILES,
    FIELD_5TAG,
    FIELD_9TAG,
    LABEL2ID_5TAG,
    LABEL2ID_9TAG,
    SCHEME_5TAG,
    SCHEME_9TAG,
    TEST_SETS,
    entity_type,
    restrict_to_types,
)


def test_label_ids_match_the_seed() -> None:
    assert list(LABEL2ID_5TAG.items()) == [
        ("O", 0), ("B-Chemical", 1), ("I-Chemical", 2), ("B-Disease", 3), ("I-Disease", 4)]
    assert list(LABEL2ID_9TAG.items())[5:] == [
        ("B-Virus", 5), ("I-Virus", 6), ("B-Gene", 7), ("I-Gene", 8)]


def test_5tag_ids_are_a_prefix_of_9tag_ids() -> None:
    for label, i in LABEL2ID_5TAG.items():
        assert LABEL2ID_9TAG[label] == i


def test_schemes() -> None:
    assert SCHEME_5TAG.field == FIELD_5TAG == "decoded_tags"
    assert SCHEME_9TAG.field == FIELD_9TAG == "decoded_tags_pseudo_final"
    assert SCHEME_5TAG.entity_types == ("Chemical", "Disease")
    assert SCHEME_9TAG.entity_types == ("Chemical", "Disease", "Virus", "Gene")
    assert SCHEME_9TAG.id2label[7] == "B-Gene"
    assert SCHEME_9TAG.labels[0] == "O" and len(SCHEME_9TAG.labels) == 9


def test_test_sets_record_their_annotated_types_and_views() -> None:
    bc5, pub = TEST_SETS["test_bc5cdr"], TEST_SETS["test_pubmed"]
    assert (bc5.field, bc5.annotated_types) == (FIELD_5TAG, ("Chemical", "Disease"))
    assert (pub.field, pub.annotated_types) == (FIELD_9TAG, ("Virus", "Gene"))
    assert bc5.path == DATA_FILES["test_bc5cdr"] and pub.path == DATA_FILES["test_pubmed"]


def test_hub_layout() -> None:
    assert DATA_FILES == {
        "train": "bc5cdr/bc5cdr_train.jsonl",
        "validation": "bc5cdr/bc5cdr_validation.jsonl",
        "test_bc5cdr": "bc5cdr/bc5cdr_test.jsonl",
        "silver": "pubmed/pubmed_scrapping.jsonl",
        "test_pubmed": "pubmed/pubmed_test.jsonl",
    }


def test_entity_type_and_restrict() -> None:
    assert entity_type("B-Gene") == "Gene" and entity_type("O") is None
    tags = ["B-Chemical", "I-Chemical", "O", "B-Gene", "I-Gene", "B-Virus"]
    assert restrict_to_types(tags, ("Virus", "Gene")) == ["O", "O", "O", "B-Gene", "I-Gene", "B-Virus"]
    assert restrict_to_types(tags, ()) == ["O"] * 6
