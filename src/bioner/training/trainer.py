"""The one `Trainer` subclass of every strategy, its batch collator, its sampler and its validation metrics.

Validation runs in the Trainer's own evaluation loop, not through the windowed tagger of bioner.tagging.inference
(docs/design.md s.6): it needs the validation loss on the same encoded features, sharding and gathering under
DDP, and best-checkpoint selection. Both paths score with `metrics.entity_scores` on each word's first sub-token;
they differ only for a validation sentence longer than `train.max_length` sub-tokens, which is truncated here
(the count is logged at encoding) and windowed at test time (tests/test_training.py checks they agree otherwise).
"""

from __future__ import annotations

from typing import Any

import torch
from datasets import Dataset
from transformers import DataCollatorForTokenClassification, EvalPrediction, PreTrainedTokenizerFast, Trainer
from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

from ..data.metrics import entity_scores, flat
from ..settings.labels import LabelScheme
from .align import IGNORE
from .loss import token_losses


def column(ds: Dataset, name: str) -> list:
    """One column as a Python list, through Arrow: in datasets 5 `ds[name]` is a lazy Column read row by row,
    many times slower on the real joint data (docs/benchmarks.md)."""
    return ds.with_format("arrow")[name].to_pylist()


class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
    """transformers' group-by-length sampler, shuffled by a generator seeded from (seed, epoch).

    The stock sampler (generator=None) draws from the global torch RNG. Under DDP every rank must draw the
    same permutation (accelerate then hands each rank every N-th batch), but dropout on differently padded
    batches advances each rank's global RNG differently, so from the second epoch on the ranks' shards would
    overlap. accelerate calls `set_epoch` on the sampler before every epoch (1 process or N), so seeding from
    (seed, epoch) keeps ranks in step and makes a resumed run shuffle like an uninterrupted one.
    """

    def __init__(self, batch_size: int, lengths: list[int], seed: int) -> None:
        super().__init__(batch_size, lengths=lengths)
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:  # noqa: D102
        self.epoch = epoch

    def __iter__(self):  # noqa: D105
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=g))


class WeightedTokenTrainer(Trainer):
    """Trainer whose loss is the (per-example weighted, optionally partial-label) token cross-entropy.

    The loss is a sum over labelled tokens divided by `num_items_in_batch` (all labelled tokens of the
    accumulated batch, across processes), so it is independent of gradient accumulation and process count.
    Under DDP each rank's loss is multiplied by the world size because DDP averages gradients over ranks: the
    average of N such gradients is the gradient of (all labelled tokens' loss sum) / (their count), as in
    `Trainer.compute_loss` with `average_tokens_across_devices` (transformers 5.24).
    """

    loss_is_scaled_for_ga = True

    def __init__(self, *args: Any, o_masks: torch.Tensor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.o_masks = o_masks
        # make Trainer count labelled tokens over the accumulated (and gathered) batch for us
        self.model_accepts_loss_kwargs = True
        self.process_loss_sum: Any = 0.0  # this process's training losses, summed as the Trainer sums them

    def training_step(self, model, inputs, num_items_in_batch=None):  # noqa: D102
        loss = super().training_step(model, inputs, num_items_in_batch)
        self.process_loss_sum = self.process_loss_sum + loss.detach()  # a tensor: no device sync per step
        return loss

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: D102
        labels = inputs.pop("labels")
        weight = inputs.pop("weight", None)
        source = inputs.pop("source", None)
        outputs = model(**inputs)
        per_tok = token_losses(outputs.logits, labels, source, self.o_masks)
        if weight is not None:
            per_tok = per_tok * weight.to(per_tok.dtype)[:, None]
        total = per_tok.sum()
        if num_items_in_batch is None:
            loss = total / labels.ne(IGNORE).sum().clamp(min=1)
        else:
            loss = total / num_items_in_batch
            if self.args.average_tokens_across_devices and self.args.world_size > 1:
                loss = loss * self.args.world_size  # DDP averages gradients over processes
        return (loss, outputs) if return_outputs else loss

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        sampler = super()._get_train_sampler(train_dataset)
        if isinstance(sampler, LengthGroupedSampler) and sampler.generator is None:
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            lengths = column(train_dataset if train_dataset is not None else self.train_dataset,
                             self.args.length_column_name)
            return EpochSeededLengthGroupedSampler(sampler.batch_size, lengths, seed)
        return sampler


class Collator:
    """DataCollatorForTokenClassification (dynamic padding) plus the per-example weight/source columns."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast, pad_to_multiple_of: int | None = None) -> None:
        self.base = DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=pad_to_multiple_of)

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        keep = ("input_ids", "attention_mask", "labels")
        batch = self.base([{k: f[k] for k in keep if k in f} for f in features])
        if "weight" in features[0]:
            batch["weight"] = torch.tensor([f["weight"] for f in features], dtype=torch.float32)
        if "source" in features[0]:
            batch["source"] = torch.tensor([f["source"] for f in features], dtype=torch.long)
        return batch


def make_compute_metrics(scheme: LabelScheme):
    """Validation metrics: entity scores (bioner.data.metrics) of the first-sub-token labels, flattened."""
    id2label = scheme.id2label

    def compute(p: EvalPrediction) -> dict[str, float]:
        preds, labels = p.predictions, p.label_ids
        gold_seqs, pred_seqs = [], []
        for pr, la in zip(preds, labels, strict=True):
            m = la != IGNORE
            gold_seqs.append([id2label[int(i)] for i in la[m]])
            pred_seqs.append([id2label[int(i)] for i in pr[m]])
        return flat(entity_scores(gold_seqs, pred_seqs, scheme.entity_types))

    return compute


def argmax_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Keep only the predicted ids during evaluation (the logits of a whole validation set are not needed)."""
    return logits.argmax(dim=-1)
