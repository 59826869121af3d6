"""The sections of the settings schema (`data`, `silver`, `sources`, `train`, `tiny`, `distant`), each a frozen
pydantic model that refuses unknown keys; `bioner.settings.settings.Settings` composes them and re-exports each."""

from __future__ import annotations

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

from .labels import SEED_TYPES, check_silver_types, check_type_names


def _auto_or(bound: float, *, strict: bool, message: str) -> AfterValidator:
    """A number above `bound` (strictly, or at least it) or the string 'auto'."""

    def check(v: Any) -> Any:
        if v != "auto" and (v <= bound if strict else v < bound):
            raise ValueError(message)
        return v

    return AfterValidator(check)


PositiveOrAuto = Annotated[float | Literal["auto"], _auto_or(0, strict=True, message="must be > 0 or 'auto'")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSettings(_Strict):
    source: str = Field("sample", description="hub | sample | <local dir in the Hub layout>")
    repo: str = "lumicero/BioNER-DS"
    revision: str = "main"
    sample_seed: int = 0


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
    #: entity type -> dictionary file (one name a line, or name<TAB>id), absolute or relative to the data dir
    dictionaries: dict[str, str] = Field(default_factory=lambda: {"Virus": "dictionaries/viruses.txt",
                                                                  "Gene": "dictionaries/genes.txt"})
    #: names never matched: a file (relative to the data dir or absolute) or an inline list of names
    stop: str | list[str] = Field(default_factory=list)
    max_tokens: int = Field(6, ge=1)
    case_sensitive_max_chars: int = Field(4, ge=0)
    #: types in order of precedence when two claim a span; [] = the order of `dictionaries`
    priority: list[str] = Field(default_factory=list)
    #: also relabel the gold corpus's 9-tag view, on its gold-O tokens only (the seed's BC5CDR view)
    gold_o: bool = True

    @field_validator("dictionaries")
    @classmethod
    def _types(cls, v: dict[str, str]) -> dict[str, str]:
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
