"""Training for every strategy with one HF `Trainer` subclass (docs/design.md s.4), one concern per module:

- `run`: `train()`, the orchestration of one run (phases, saving, the settings snapshot);
- `data`: the corpora a strategy reads, encoded and combined as the strategy table says;
- `loss`: the weighted / partial-label token loss; `trainer`: the Trainer subclass, collator, sampler and
  validation metrics; `callbacks`: log lines and dvclive curves; `runtime`: devices, DDP, TrainingArguments,
  resume fingerprint and checkpoints.
"""


