"""The typed dictionary sources of `distant.dictionaries` (docs/distant.md): a hand list, the HGNC gene table,
the ICTV Virus Metadata Resource, an NCBI Taxonomy dump.

`distant.dictionaries.<Type>` is a path (a hand list, as before), one source mapping, or a list of either.
`parse_sources` turns that into a list of source models with one-line errors naming the setting, the bad
value and what is allowed (pydantic's own message for a failed discriminated union lists every branch).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

#: HGNC name fields: approved symbol, alias symbols, previous symbols, approved name.
HGNC_FIELDS = ("symbol", "alias", "previous", "name")
#: ICTV VMR name fields: `Virus name(s)`, `Virus name abbreviation(s)`.
ICTV_FIELDS = ("name", "abbreviation")
#: ICTV VMR taxon-rank columns whose names can count as virus names.
ICTV_RANKS = ("realm", "subrealm", "kingdom", "subkingdom", "phylum", "subphylum", "class", "subclass", "order",
              "suborder", "family", "subfamily", "genus", "subgenus", "species")
#: NCBI names.dmp name classes.
NCBI_NAME_CLASSES = ("scientific name", "common name", "genbank common name", "acronym", "genbank acronym",
                     "synonym", "genbank synonym", "equivalent name", "includes", "in-part", "blast name",
                     "authority", "type material", "misspelling", "misnomer", "anamorph", "genbank anamorph",
                     "teleomorph", "unpublished name")


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: file, absolute or relative to the fetched data directory
    path: str = Field(min_length=1)
    #: apply the name filters (distant.min_chars, drop_numeric, common_word_zipf, variants) to this source
    filters: bool = True
    #: this source's filter settings instead of distant.min_chars / distant.common_word_zipf (None = the param)
    min_chars: int | None = Field(None, ge=1)
    common_word_zipf: float | None = Field(None, ge=0, le=8, allow_inf_nan=False)


class ListSource(_Source):
    """A hand-kept list: one name a line, or name<TAB>canonical id (bioner.distant.dictionary)."""

    format: Literal["list"] = "list"
    filters: bool = False  # a hand list is curated: kept as written unless asked


class HgncSource(_Source):
    """The HGNC gene table: genenames.org custom download or hgnc_complete_set.txt (detected from the header)."""

    format: Literal["hgnc"] = "hgnc"
    statuses: tuple[str, ...] = ("Approved",)
    #: `Locus type` values kept; [] = every locus type
    locus_types: tuple[str, ...] = ("gene with protein product",)
    fields: tuple[Literal["symbol", "alias", "previous", "name"], ...] = HGNC_FIELDS


class IctvSource(_Source):
    """The ICTV Virus Metadata Resource workbook (.xlsx)."""

    format: Literal["ictv_vmr"] = "ictv_vmr"
    fields: tuple[Literal["name", "abbreviation"], ...] = ICTV_FIELDS
    ranks: tuple[Literal[ICTV_RANKS], ...] = ("genus", "family")  # type: ignore[valid-type]
    #: worksheet; None = the first whose name starts with "VMR"
    sheet: str | None = None


class TaxdumpSource(_Source):
    """NCBI Taxonomy's names.dmp/nodes.dmp: a taxdump .tar.gz or a folder holding both."""

    format: Literal["ncbi_taxdump"] = "ncbi_taxdump"
    root: int = Field(10239, ge=1)  # the subtree's root taxid (10239 = Viruses)
    name_classes: tuple[Literal[NCBI_NAME_CLASSES], ...] = (  # type: ignore[valid-type]
        "scientific name", "common name", "genbank common name", "acronym", "genbank acronym", "equivalent name")
    #: ranks kept (nodes.dmp rank column, e.g. species, genus, "no rank"); [] = every rank
    ranks: tuple[str, ...] = ()


SourceSpec = ListSource | HgncSource | IctvSource | TaxdumpSource
SOURCE_MODELS: dict[str, type[_Source]] = {m.model_fields["format"].default: m
                                           for m in (ListSource, HgncSource, IctvSource, TaxdumpSource)}


def _allowed_options(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def parse_source(value: Any, where: str) -> SourceSpec:
    """One source: a path string (hand list) or a mapping with `format`; ValueError with one clear line."""
    if isinstance(value, SOURCE_MODELS.get(getattr(value, "format", ""), type(None))):
        return value
    if isinstance(value, str):
        value = {"format": "list", "path": value}
    if not isinstance(value, dict):
        raise ValueError(f"{where}={value!r}: allowed: a file path, or a mapping with format "
                         f"({' | '.join(SOURCE_MODELS)}) and path")
    fmt = value.get("format", "list")
    model = SOURCE_MODELS.get(fmt)
    if model is None:
        raise ValueError(f"{where}.format={fmt!r}: unknown source format; allowed: {', '.join(SOURCE_MODELS)}")
    try:
        return model.model_validate(value)  # type: ignore[return-value]
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            msg = f"unknown option for format {fmt}; allowed: {_allowed_options(model)}"
        elif err["type"] == "missing":
            msg = "missing"
        else:
            msg = err["msg"].removeprefix("Value error, ")
        shown = f"={err['input']!r}" if err["type"] != "missing" else ""
        raise ValueError(f"{where}.{key}{shown}: {msg}") from None


def parse_sources(value: Any, where: str = "distant.dictionaries.<type>") -> list[SourceSpec]:
    """A type's sources as a list (a single path or mapping is a list of one)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{where}=[]: no source; allowed: a file path, a source mapping or a list of them")
        return [parse_source(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return [parse_source(value, where)]


def _check_entry(value: Any) -> Any:
    parse_sources(value, "source")  # errors here; the validated value keeps its written shape
    if isinstance(value, (list, tuple)):
        return [v if isinstance(v, str) else parse_source(v, "source") for v in value]
    return value if isinstance(value, str) else parse_source(value, "source")


#: the value of `distant.dictionaries.<Type>`: a path, a source mapping, or a list of them.
DictionaryEntry = Annotated[str | SourceSpec | list[str | SourceSpec], BeforeValidator(_check_entry)]
