"""The sections of the settings schema (`data`, `silver`, `sources`, `train`, `tiny`, `distant`, `corpus`,
`evaluate`), each a frozen pydantic model that refuses unknown keys; `bioner.settings.settings.Settings` composes
them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .dictionaries import DictionaryEntry, parse_sources
from .labels import DATA_FILES, SEED_TYPES, TEST_SET_NAME, TEST_SET_NAME_RULE, check_silver_types, check_type_names

SILVER_FILE = DATA_FILES["silver"]


def _auto_or(bound: float, *, strict: bool, message: str) -> AfterValidator:
    """A number above `bound` (strictly, or at least it) or the string 'auto'."""

    def check(v: Any) -> Any:
        if v != "auto" and (v <= bound if strict else v < bound):
            raise ValueError(message)
        return v

    return AfterValidator(check)


PositiveOrAuto = Annotated[float | Literal["auto"], _auto_or(0, strict=True, message="must be > 0 or 'auto'")]


class _Strict(BaseModel):
    #: every float finite: nan or inf passes a range check like gt=0 (nan) or trains nothing (inf)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DataSettings(_Strict):
    source: str = Field("sample", description="hub | sample | <local dir in the Hub layout>")
    repo: str = "lumicero/BioNER-DS"
    revision: str = "main"
    sample_seed: int = 0
    #: the silver corpus: one or more files relative to the data source (or absolute), labelled or text only
    #: (`{"tokens": [...]}`: the distant stage labels it); several are joined and deduplicated by `distant`
    silver: tuple[str, ...] = (SILVER_FILE,)

    @field_validator("silver")
    @classmethod
    def _silver_files(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one silver file is needed, e.g. [pubmed/pubmed_scrapping.jsonl]")
        if len(set(v)) != len(v):
            raise ValueError(f"a file is listed twice in {list(v)}")
        return v


#: The silver:gold ratios of `silver.ratio` (`full`: all silver sentences).
RATIOS = ("1", "2", "4", "full")


class SilverSettings(_Strict):
    ratio: Literal[RATIOS] = "full"  # type: ignore[valid-type]
    weight: float = Field(0.5, gt=0.0, le=1.0)
    subset_seed: int = 13

    @field_validator("ratio", mode="before")
    @classmethod
    def _ratio_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class SourceTypes(_Strict):
    """Entity types each training source annotates: the run's label space (docs/design.md s.3) and the
    partial-label masks. Gold types first, then silver types, each in the order listed here (label ids follow it).
    """

    # BC5CDR annotates Chemical/Disease; its Gene/Virus labels come from a dictionary pass that misses many
    # mentions, so an O there may still be a gene or virus
    gold: tuple[str, ...] = SEED_TYPES.gold
    silver: tuple[str, ...] = SEED_TYPES.silver

    @field_validator("gold", "silver")
    @classmethod
    def _types(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        check_type_names(v)
        if info.field_name == "gold" and not v:
            raise ValueError("at least one gold entity type is needed")
        if info.field_name == "silver" and "gold" in info.data:  # gold is validated first (field order)
            check_silver_types(info.data["gold"], v)
        return v


class Phase2Settings(_Strict):
    epochs: float = Field(3, gt=0)
    learning_rate: PositiveOrAuto = "auto"


class TinySettings(_Strict):
    """Size of the random-init `tiny` backbone."""

    vocab_size: int = Field(8000, ge=200)
    hidden_size: int = Field(128, ge=8)
    num_layers: int = Field(2, ge=1)
    num_heads: int = Field(2, ge=1)
    intermediate_size: int = Field(512, ge=8)
    #: text the WordPiece vocab is trained on: every training sentence (gold + silver) or BC5CDR train only
    vocab_text: Literal["train", "gold"] = "train"

    @model_validator(mode="after")
    def _heads_divide(self) -> TinySettings:
        if self.hidden_size % self.num_heads:
            raise ValueError(f"tiny.hidden_size ({self.hidden_size}) must be divisible by tiny.num_heads")
        return self


class TrainSettings(_Strict):
    epochs: float = Field(3, gt=0)
    batch_size: int = Field(16, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    learning_rate: PositiveOrAuto = "auto"
    #: lr used when learning_rate is 'auto': pretrained backbones (the seed's 2e-5) and random-init `tiny`
    #: (docs/results.md: why 2e-3).
    auto_lr_pretrained: float = Field(2.0e-5, gt=0)
    auto_lr_random_init: float = Field(2.0e-3, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    max_length: int = Field(512, ge=8)
    group_by_length: bool = True
    gradient_accumulation_steps: int = Field(1, ge=1)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    dataloader_workers: Annotated[int | Literal["auto"],
                                  _auto_or(0, strict=False, message="allowed: 'auto' or an integer >= 0")] = "auto"
    #: CPU threads for torch; 'auto' = OMP_NUM_THREADS if set, else the cores no other process is busy on when
    #: training starts (bioner.training.threads; torch's own default, every core, is far slower next to a busy
    #: process: docs/benchmarks.md). With `dvc queue start -j N` on a CPU set it to cores / N: the N runs start
    #: at the same time.
    cpu_threads: Annotated[int | Literal["auto"],
                           _auto_or(1, strict=False, message="allowed: 'auto' or an integer >= 1")] = "auto"
    launcher: Literal["none", "torchrun"] = "none"
    nproc: int = Field(1, ge=1)
    phase2: Phase2Settings = Phase2Settings()


class DistantSettings(_Strict):
    """The `distant` stage: keep the corpus's labels, or relabel them from dictionaries (docs/distant.md)."""

    mode: Literal["keep", "relabel"] = "keep"
    #: entity type -> its source(s): a hand-list path, a source mapping (hgnc | ictv_vmr | ncbi_taxdump | list;
    #: bioner.settings.dictionaries) or a list of them; paths absolute or relative to the data dir
    dictionaries: dict[str, DictionaryEntry] = Field(default_factory=lambda: {"Virus": "dictionaries/viruses.txt",
                                                                  "Gene": "dictionaries/genes.txt"})
    #: names never matched: a file (relative to the data dir or absolute) or an inline list of names
    stop: str | list[str] = Field(default_factory=list)
    max_tokens: int = Field(6, ge=1)
    case_sensitive_max_chars: int = Field(4, ge=0)
    #: one-word names with a capital letter whose lowercase form is at least this common in English (wordfreq
    #: Zipf) match only as written (PIGS never matches "pigs"); 0 = off
    case_sensitive_word_zipf: float = Field(0.0, ge=0, le=8, allow_inf_nan=False)
    #: types in order of precedence when two claim a span; [] = the order of `dictionaries`
    priority: list[str] = Field(default_factory=list)
    #: also relabel the gold corpus's 9-tag view, on its gold-O tokens only (the seed's BC5CDR view)
    gold_o: bool = True
    #: a name in two types' dictionaries: the first type in `priority` keeps it, or every type drops it
    clash: Literal["priority", "drop"] = "priority"
    #: name filters, applied to the sources with `filters: true` (official sources; not hand lists by default)
    min_chars: int = Field(2, ge=1)
    drop_numeric: bool = True
    #: one-word names at least this frequent in English (wordfreq Zipf scale) are dropped; 0 = off
    common_word_zipf: float = Field(2.5, ge=0, le=8, allow_inf_nan=False)
    plural_variants: bool = False
    hyphen_variants: bool = False

    @field_validator("dictionaries", mode="before")
    @classmethod
    def _sources(cls, v: Any) -> Any:
        if isinstance(v, dict):  # each type's sources, with errors naming distant.dictionaries.<type>
            for t, entry in v.items():
                parse_sources(entry, f"distant.dictionaries.{t}")
        return v

    @field_validator("dictionaries")
    @classmethod
    def _types(cls, v: dict[str, Any]) -> dict[str, Any]:
        check_type_names(list(v))  # the entity-type name rule (docs/design.md s.3)
        return v

    @model_validator(mode="after")
    def _priority(self) -> DistantSettings:
        if self.priority and sorted(self.priority) != sorted(self.dictionaries):
            raise ValueError(f"distant.priority {self.priority} must list each dictionary type once "
                             f"({list(self.dictionaries)}), or be []")
        if self.mode == "relabel" and not self.dictionaries:
            raise ValueError("distant.mode=relabel needs at least one entry in distant.dictionaries")
        return self


class TestSetSettings(_Strict):
    """One gold test file: where it is, the label view it is read in, and the types it is gold for."""

    #: relative to the data source (fetched with the other files) or absolute
    file: str
    #: gold = `decoded_tags` (gold types); gold+silver = `decoded_tags_pseudo_final`
    view: Literal["gold", "gold+silver"] = "gold+silver"
    #: the types it is gold for; [] = the types present in its view (minus the run's gold types for gold+silver)
    types: tuple[str, ...] = ()

    @field_validator("types")
    @classmethod
    def _types(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        check_type_names(v)
        return v


def _default_test_sets() -> dict[str, TestSetSettings]:
    return {"bc5cdr": TestSetSettings(file=DATA_FILES["test_bc5cdr"], view="gold"),
            "pubmed": TestSetSettings(file=DATA_FILES["test_pubmed"], view="gold+silver")}


class EvaluateSettings(_Strict):
    """The `evaluate` stage: the gold test sets every experiment is scored on (their names prefix the metrics)."""

    test_sets: dict[str, TestSetSettings] = Field(default_factory=_default_test_sets)

    @field_validator("test_sets")
    @classmethod
    def _names(cls, v: dict[str, TestSetSettings]) -> dict[str, TestSetSettings]:
        bad = [n for n in v if not TEST_SET_NAME.fullmatch(n)]
        if bad:
            raise ValueError(f"test set name(s) {bad}: a name is {TEST_SET_NAME_RULE}")
        if not v:
            raise ValueError("at least one test set is needed")
        return v
#: PubMed's date forms for ESearch's mindate/maxdate: YYYY, YYYY/MM or YYYY/MM/DD
_PUBMED_DATE = r"^(\d{4}(/\d{2}(/\d{2})?)?)?$"


class CorpusSettings(_Strict):
    """The `corpus` stage: an unlabelled silver corpus from NCBI Entrez, PubMed XML files or plain text
    (bioner.scrape). The NCBI API key is read from the environment (NCBI_API_KEY) only, never from here."""

    source: Literal["none", "entrez", "pubmed_xml", "text"] = "none"
    #: the output file: data/corpus/<name>.jsonl (and <name>.pmids)
    name: str = Field("pubmed", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    query: str = ""
    mindate: str = ""
    maxdate: str = ""
    max_records: int = Field(10000, ge=1)
    #: a file of PMIDs (one a line): fetch exactly these instead of running `query`
    pmids: str = ""
    #: pubmed_xml: a pubmed*.xml(.gz) file or a folder of them; text: a .txt file (one document a line) or a folder
    path: str = ""
    email: str = ""
    tool: str = "bioner-ds"
    base_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    batch_size: int = Field(200, ge=1, le=10000)
    #: PubMed <Language> codes kept; [] = every language
    languages: list[str] = Field(default_factory=lambda: ["eng"])
    #: sentences longer than this many tokens are kept and counted (the windowed tagger handles them)
    window_tokens: int = Field(128, ge=1)

    @field_validator("mindate", "maxdate")
    @classmethod
    def _date(cls, v: str) -> str:
        if not re.match(_PUBMED_DATE, v):
            raise ValueError("allowed: YYYY, YYYY/MM or YYYY/MM/DD (PubMed's date forms), or '' for no limit")
        return v

    @model_validator(mode="after")
    def _needs(self) -> CorpusSettings:
        if self.source == "entrez" and not (self.query.strip() or self.pmids):
            raise ValueError("corpus.source=entrez needs corpus.query (a PubMed query) or corpus.pmids (a file of "
                             "PMIDs)")
        if self.source in ("pubmed_xml", "text") and not self.path:
            what = "a pubmed*.xml(.gz) file or a folder of them" if self.source == "pubmed_xml" else \
                "a .txt file (one document a line) or a folder of .txt files"
            raise ValueError(f"corpus.source={self.source} needs corpus.path: {what}")
        if bool(self.mindate) != bool(self.maxdate):
            raise ValueError("corpus.mindate and corpus.maxdate go together (PubMed needs both): set both or "
                             "neither")
        return self
