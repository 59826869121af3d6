"""Entity types, label spaces, label views and the test-set table (bioner.settings.labels)."""

from __future__ import annotations

import pytest

from bioner.settings.labels import (
    DATA_FILES,
    FIELD_FULL,
    FIELD_GOLD,
    SEED_TYPES,
    TEST_SETS,
    CheckpointTypes,
    EntityTypes,
    bio_label2id,
    check_dictionary_types,
    entity_type,
    restrict_to_types,
    valid_label,
)


def test_label_ids_match_the_seed() -> None:
    assert list(SEED_TYPES.scheme("gold").label2id.items()) == [
        ("O", 0), ("B-Chemical", 1), ("I-Chemical", 2), ("B-Disease", 3), ("I-Disease", 4)]
    assert list(SEED_TYPES.scheme("gold+silver").label2id.items())[5:] == [
        ("B-Virus", 5), ("I-Virus", 6), ("B-Gene", 7), ("I-Gene", 8)]


@pytest.mark.parametrize("silver", [("Virus", "Gene"), ("Virus", "Gene", "Species"), ("Species",), ()])
def test_gold_ids_are_a_prefix_of_gold_silver_ids(silver: tuple[str, ...]) -> None:
    types = EntityTypes(("Chemical", "Disease"), silver)
    gold, full = types.scheme("gold").label2id, types.scheme("gold+silver").label2id
    assert list(full.items())[: len(gold)] == list(gold.items())
    assert len(full) == 1 + 2 * len(types.all) and sorted(full.values()) == list(range(len(full)))


def test_a_fifth_type_takes_the_next_ids_in_the_listed_order() -> None:
    l2i = EntityTypes(("Chemical", "Disease"), ("Virus", "Gene", "Species")).scheme("gold+silver").label2id
    assert (l2i["B-Species"], l2i["I-Species"]) == (9, 10)
    assert {k: v for k, v in l2i.items() if v < 9} == SEED_TYPES.scheme("gold+silver").label2id
    # the order is the settings' order: listing silver types differently gives other (self-consistent) ids
    assert bio_label2id(("Gene", "Virus"))["B-Gene"] == 1


def test_schemes() -> None:
    gold, full = SEED_TYPES.scheme("gold"), SEED_TYPES.scheme("gold+silver")
    assert (gold.view, gold.field, gold.name) == ("gold", FIELD_GOLD, "5tag") and FIELD_GOLD == "decoded_tags"
    assert (full.view, full.field, full.name) == ("gold+silver", FIELD_FULL, "9tag")
    assert FIELD_FULL == "decoded_tags_pseudo_final"
    assert gold.entity_types == ("Chemical", "Disease")
    assert full.entity_types == ("Chemical", "Disease", "Virus", "Gene")
    assert full.id2label[7] == "B-Gene" and full.labels[0] == "O" and len(full.labels) == 9


@pytest.mark.parametrize(("gold", "silver", "message"), [
    ((), ("Gene",), "sources.gold: at least one"),
    (("Chemical",), ("Cell-Line",), "sources.silver: invalid type name(s) ['Cell-Line']; a type name is a letter"),
    (("Chemical",), ("Cell_Line",), "invalid type name(s) ['Cell_Line']"),
    (("Chemical",), ("Cell line",), "invalid type name(s) ['Cell line']"),
    (("Chemical",), ("5HT",), "invalid type name(s) ['5HT']"),
    (("Chemical", "Disease"), ("Gene", "gene"), "sources.silver: type 'gene' is listed twice (as 'Gene')"),
    (("Chemical", "Disease"), ("Virus", "Chemical"), "sources.silver: ['Chemical'] already gold type(s)"),
    (("Chemical", "Disease"), ("disease",), "['disease'] already gold type(s) (sources.gold = ['Chemical', 'Dis"),
])
def test_bad_type_lists_are_refused(gold: tuple, silver: tuple, message: str) -> None:
    with pytest.raises(ValueError) as err:
        EntityTypes(gold, silver)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_dictionary_types_must_match_the_silver_types() -> None:
    check_dictionary_types(("Virus", "Gene"), ("Gene", "Virus"))  # same set, any order
    with pytest.raises(ValueError, match=r"no sources.silver entry for \['Species'\]"):
        check_dictionary_types(("Virus", "Gene"), ("Virus", "Gene", "Species"))
    with pytest.raises(ValueError, match=r"no dictionary for \['Gene'\]"):
        check_dictionary_types(("Virus", "Gene"), ("Virus",))


def test_valid_labels() -> None:
    assert all(valid_label(x) for x in ("O", "B-Gene", "I-CellLine", "B-H2O"))
    assert not any(valid_label(x) for x in ("B-", "E-Gene", "B-Cell-Line", "B_Gene", "o", "B-Cell Line"))


# ---------------------------------------------------------------------------------------------------------------
# test sets: annotated types follow the test file (its view) and the checkpoint's gold/silver split
NINE = {lab: i for lab, i in SEED_TYPES.scheme("gold+silver").label2id.items()}
PUBMED_TAGS = [["B-Gene", "O", "B-Species"], ["B-Virus", "I-Virus"]]


def _model(label2id: dict[str, int], recorded: dict | None = SEED_TYPES.as_config()) -> CheckpointTypes:
    return CheckpointTypes.from_config(label2id, recorded)


def test_test_sets_name_their_view_and_file() -> None:
    bc5, pub = TEST_SETS["bc5cdr"], TEST_SETS["pubmed"]
    assert (bc5.view, bc5.field) == ("gold", FIELD_GOLD) and (pub.view, pub.field) == ("gold+silver", FIELD_FULL)
    assert bc5.path == DATA_FILES["test_bc5cdr"] and pub.path == DATA_FILES["test_pubmed"]


def test_annotated_types_are_the_files_types_in_the_runs_order() -> None:
    pub, bc5 = TEST_SETS["pubmed"], TEST_SETS["bc5cdr"]
    nine = _model(NINE)
    # the seed's order (Virus before Gene) although Gene comes first in the file; an unknown type goes last
    assert pub.annotated_types(PUBMED_TAGS, nine) == ("Virus", "Gene", "Species")
    assert bc5.annotated_types([["B-Disease", "B-Chemical"]], nine) == ("Chemical", "Disease")
    eleven = _model(bio_label2id(("Chemical", "Disease", "Virus", "Gene", "Species")),
                    {"gold": ["Chemical", "Disease"], "silver": ["Virus", "Gene", "Species"]})
    assert pub.annotated_types(PUBMED_TAGS, eleven) == ("Virus", "Gene", "Species")


def test_the_silver_test_set_never_scores_the_runs_gold_types() -> None:
    pub = TEST_SETS["pubmed"]
    tags = [["B-Chemical", "B-Gene"], ["B-Virus"]]
    assert pub.annotated_types(tags, _model(NINE)) == ("Virus", "Gene")
    # a checkpoint that does not record its run's types (not written by bioner train): the file decides alone
    assert pub.annotated_types(tags, _model(NINE, None)) == ("Chemical", "Virus", "Gene")


def test_scorable_iff_the_model_predicts_an_annotated_type() -> None:
    five = _model(SEED_TYPES.scheme("gold").label2id)  # a gold-view model also records its run's silver types
    pub = TEST_SETS["pubmed"]
    annotated = pub.annotated_types(PUBMED_TAGS, five)
    assert annotated == ("Virus", "Gene", "Species") and not pub.scorable(annotated, five)
    assert pub.scorable(annotated, _model(NINE))
    assert not pub.scorable((), _model(NINE))


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
