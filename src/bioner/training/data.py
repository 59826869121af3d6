"""Training data assembly: the corpora a strategy reads, encoded and combined as its table entry says.

Every example carries a `weight` (gold 1.0; silver 1.0 or `silver.weight`) and a `source` column (GOLD,
SILVER) for the partial-label loss. `mixed` strategies concatenate gold and silver and shuffle them together;
`phases` strategies keep silver for phase 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets import Dataset, concatenate_datasets
from transformers import PreTrainedTokenizerFast

from ..data.corpus import Corpus, load_corpus
from ..data.silver import load_silver
from ..settings.labels import DATA_FILES
from ..settings.settings import Settings
from .align import encode
from .trainer import column

GOLD, SILVER = 0, 1


@dataclass
class TrainData:
    train: Dataset  # phase 1 (or the only phase)
    phase2: Dataset | None
    validation: Dataset
    stats: dict[str, Any]


def load_training_corpora(s: Settings, data_dir: Path, silver_dir: Path | None) -> dict[str, Corpus | None]:
    """gold (BC5CDR train), validation (BC5CDR validation) and, if the strategy uses it, the silver subset,
    all in the strategy's label view."""
    field, label2id = s.scheme.field, s.scheme.label2id
    space = "the run's types: sources.gold" + (" + sources.silver" if s.scheme.view == "gold+silver" else "")
    gold = load_corpus(data_dir / DATA_FILES["train"], field, label2id, space=space)
    val = load_corpus(data_dir / DATA_FILES["validation"], field, label2id, space=space)
    silver = None
    if s.uses_silver:
        silver = load_silver(s.silver.ratio, silver_dir, data_dir, len(gold), s.silver.subset_seed, label2id,
                             space=space)
    return {"gold": gold, "validation": val, "silver": silver}


def run_inputs(data_dir: Path, silver_dir: Path | None, silver: Corpus | None) -> dict[str, str | None]:
    """Where a run's data came from (config_snapshot.yaml's `run.inputs`, shown on the model card): the
    directories as given and the file the silver subset was read from (the full corpus when it was cut in
    memory)."""
    return {"data_dir": str(data_dir), "silver_dir": None if silver_dir is None else str(silver_dir),
            "silver_file": None if silver is None else str(silver.path)}


def vocab_texts(s: Settings, corpora: dict[str, Any]) -> list[list[str]]:
    """Sentences the `tiny` backbone's WordPiece vocab is trained on (`tiny.vocab_text`)."""
    with_silver = corpora.get("silver") is not None and s.tiny.vocab_text == "train"
    sources = [corpora["gold"], *([corpora["silver"]] if with_silver else [])]
    return [words for c in sources for words in c.tokens]


def build_datasets(s: Settings, corpora: dict[str, Any], tokenizer: PreTrainedTokenizerFast) -> TrainData:
    """Encode the corpora and combine them as the strategy's `combine` says."""
    label2id, ml = s.scheme.label2id, s.train.max_length
    gold, val, silver = corpora["gold"], corpora["validation"], corpora["silver"]

    def enc(c: Corpus, source: int, weight: float, desc: str) -> Dataset:
        n = len(c)
        return encode(c.tokens, c.tags, label2id, tokenizer, ml,
                      extra_columns={"weight": [weight] * n, "source": [source] * n}, desc=desc)

    gold_ds = enc(gold, GOLD, 1.0, "align train (gold)")
    val_ds = enc(val, GOLD, 1.0, "align validation")
    silver_ds = enc(silver, SILVER, s.silver_weight, "align silver") if silver is not None else None
    combine = s.strategy_record.combine
    if combine == "mixed":
        train, phase2 = concatenate_datasets([gold_ds, silver_ds]).shuffle(seed=s.seed), None
    elif combine == "phases":
        train, phase2 = gold_ds, silver_ds
    else:
        train, phase2 = gold_ds, None
    stats = {"gold_sentences": len(gold), "silver_sentences": len(silver) if silver is not None else 0,
             "validation_sentences": len(val),
             "train_tokens": int(sum(column(train, "length"))),
             "truncated": sum(column(train, "truncated")) + (sum(column(phase2, "truncated")) if phase2 else 0),
             # validation sentences the Trainer's evaluation loop sees cut at max_length (docs/design.md s.6)
             "validation_truncated": sum(column(val_ds, "truncated"))}
    return TrainData(train, phase2, val_ds, stats)
