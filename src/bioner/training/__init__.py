"""Training for every strategy with one HF `Trainer` subclass (docs/design.md s.4), one concern per module:

- `run`: `train()`, the orchestration of one run (phases, saving, the settings snapshot);
- `data`: the corpora a strategy reads, encoded and combined as the strategy table says;
- `loss`: the weighted / partial-label token loss; `trainer`: the Trainer subclass, collator, sampler and
  validation metrics; `callbacks`: log lines and dvclive curves; `runtime`: devices, DDP, TrainingArguments,
  resume fingerprint and checkpoints.
"""

from .data import GOLD, SILVER, TrainData, build_datasets, load_training_corpora, vocab_texts
from .loss import label_masks, token_losses
from .run import train
from .runtime import run_fingerprint
from .trainer import Collator, EpochSeededLengthGroupedSampler, WeightedTokenTrainer

__all__ = ["GOLD", "SILVER", "Collator", "EpochSeededLengthGroupedSampler", "TrainData", "WeightedTokenTrainer",
           "build_datasets", "label_masks", "load_training_corpora", "run_fingerprint", "token_losses", "train",
           "vocab_texts"]
