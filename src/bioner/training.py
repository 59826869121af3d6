"""Training for every strategy with one HF `Trainer` subclass (design.md s.4).

- single_source: BC5CDR train, 5-tag gold view.
- joint_uniform / joint_noise_aware / joint_partial: BC5CDR train + silver subset concatenated (the Trainer's
  sampler shuffles), a per-example `weight` column (gold 1.0; silver 1.0 or `silver.weight`) and a `source`
  column (0 gold, 1 silver) for the partial-label loss.
- sequential: phase 1 on BC5CDR (9-tag), phase 2 on silver starting from phase 1's best model.
Best model by validation entity F1 (seqeval strict IOB2) on BC5CDR validation.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import PartialState
from datasets import Dataset, concatenate_datasets
from transformers import (
    DataCollatorForTokenClassification,
    EvalPrediction,
    PreTrainedTokenizerFast,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_callback import PrinterCallback
from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices
from transformers.trainer_utils import get_last_checkpoint

from . import modeling
from .align import IGNORE, encode
from .atomic import replace_dir, write_json, write_yaml
from .corpus import load_corpus
from .labels import DATA_FILES, LabelScheme
from .metrics import entity_scores, flat
from .settings import Settings
from .silver import load_silver

log = logging.getLogger(__name__)

GOLD, SILVER = 0, 1


# ---------------------------------------------------------------------------------------------------------------
# loss
def label_masks(scheme: LabelScheme, annotated: dict[int, tuple[str, ...]]) -> torch.Tensor:
    """[n_sources, n_labels] bool: labels an O token of each source may really be.

    A source that does not annotate type T cannot tell O from T: its O tokens allow O, B-T and I-T.
    """
    n = len(scheme.label2id)
    masks = torch.zeros(max(annotated) + 1, n, dtype=torch.bool)
    for src, types in annotated.items():
        masks[src, scheme.label2id["O"]] = True
        for label, i in scheme.label2id.items():
            if label != "O" and label[2:] not in types:
                masks[src, i] = True
    return masks


def token_losses(logits: torch.Tensor, labels: torch.Tensor, source: torch.Tensor | None = None,
                 o_masks: torch.Tensor | None = None, o_id: int = 0) -> torch.Tensor:
    """Per-token loss [B, L] (0 where label is -100).

    Without `o_masks`: cross-entropy. With it (partial labels): for an O token of source s the loss is
    -log sum_{l allowed for s} p(l), so moving probability between O and a type s does not annotate costs
    nothing; other tokens keep plain cross-entropy.
    """
    logp = torch.log_softmax(logits.float(), dim=-1)
    valid = labels.ne(IGNORE)
    safe = labels.clamp(min=0)
    nll = -logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    if o_masks is not None and source is not None:
        allowed = o_masks.to(logits.device)[source]  # [B, C]
        partial = -torch.logsumexp(logp.masked_fill(~allowed[:, None, :], float("-inf")), dim=-1)
        nll = torch.where(labels.eq(o_id), partial, nll)
    return nll * valid


def column(ds: Dataset, name: str) -> list:
    """One column as a Python list, through Arrow. In datasets 5 `ds[name]` is a lazy Column read row by row:
    on the real joint data (41k shuffled rows) `sum(ds["length"])` took 1.7 s and the length-grouped sampler,
    indexing the Column the Trainer hands it, 2.7 s per epoch (benchmarks/bench_train.py); this takes 0.15 s."""
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


# ---------------------------------------------------------------------------------------------------------------
# logging
class EpochLogCallback(TrainerCallback):
    """One concise log line per evaluation (replaces the Trainer's raw dict printing when not on a terminal)."""

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # noqa: D102
        if not state.is_world_process_zero or not metrics:
            return
        per = ", ".join(f"{k[8:]} {v:.3f}" for k, v in metrics.items() if k.startswith("eval_f1_"))
        log.info("epoch %.2f step %d: validation F1 %.4f (%s)", state.epoch or 0, state.global_step,
                 metrics.get("eval_f1", float("nan")), per)


class LiveCallback(TrainerCallback):
    """Logs Trainer logs to a dvclive `Live` at step = optimizer step (+ offset for phase 2).

    Hand-written instead of dvclive's DVCLiveCallback: that one logs ~100 TrainingArguments as params
    (cluttering `dvc exp show`), ends the Live at train end (breaking the two-phase sequential run) and counts
    log events rather than optimizer steps.
    """

    def __init__(self, live: Any, step_offset: int = 0, prefix: str = "") -> None:
        self.live, self.offset, self.prefix = live, step_offset, prefix

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D102
        if self.live is None or not state.is_world_process_zero or not logs:
            return
        self.live.step = state.global_step + self.offset
        for key, value in logs.items():
            # train_loss: the run's mean loss, logged at the end; as train/loss it adds a bogus last point
            if not isinstance(value, (int, float)) or key in ("epoch", "total_flos", "train_loss"):
                continue
            if key.startswith("eval_"):
                name = "eval/" + key[5:]
            elif key.startswith("train_"):
                name = "train/" + key[6:]
            else:
                name = "train/" + key
            if key.endswith(("_runtime", "_samples_per_second", "_steps_per_second")):
                continue
            self.live.log_metric(self.prefix + name, float(value))
        self.live.log_metric("epoch", float(state.epoch or 0), plot=False)
        self.live.sync()


class ShardRecorder(TrainerCallback):
    """Debug hook, on when the environment sets BIONER_DEBUG_SHARDS=1: before each epoch every process writes
    the training-example indices of its data shard to `<phase work dir>/shards_rank<R>.json`
    ({epoch: [indices]}), so a test can check that DDP ranks see disjoint shards. Reads the rank's batch
    sampler, which has no side effects (EpochSeededLengthGroupedSampler and accelerate's seedable sampler draw
    from their own generators).
    """

    def __init__(self) -> None:
        self.epochs: dict[str, list[int]] = {}

    def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):  # noqa: D102
        if train_dataloader is None:
            return
        epoch = int(state.epoch or 0)
        train_dataloader.set_epoch(epoch)  # the Trainer sets the same epoch right after this callback
        self.epochs[str(epoch)] = [int(i) for batch in train_dataloader.batch_sampler for i in batch]
        write_json(Path(args.output_dir) / f"shards_rank{args.process_index}.json", self.epochs)


# ---------------------------------------------------------------------------------------------------------------
# data
@dataclass
class TrainData:
    train: Dataset  # phase 1 (or the only phase)
    phase2: Dataset | None
    validation: Dataset
    val_words: list[list[str]]
    val_tags: list[list[str]]
    stats: dict[str, Any]


def _texts(*corpora: Any) -> list[list[str]]:
    return [words for c in corpora for words in c.tokens]


def vocab_texts(s: Settings, corpora: dict[str, Any]) -> list[list[str]]:
    """Sentences the `tiny` backbone's WordPiece vocab is trained on (`tiny.vocab_text`)."""
    with_silver = corpora.get("silver") is not None and s.tiny.vocab_text == "train"
    return _texts(corpora["gold"], *([corpora["silver"]] if with_silver else []))


def load_training_corpora(s: Settings, data_dir: Path, silver_dir: Path | None) -> dict[str, Any]:
    field = s.scheme.field
    gold = load_corpus(data_dir / DATA_FILES["train"], field, s.scheme.label2id)
    val = load_corpus(data_dir / DATA_FILES["validation"], field, s.scheme.label2id)
    silver = None
    if s.uses_silver:
        silver = load_silver(s.silver.ratio, silver_dir, data_dir, len(gold), s.silver.subset_seed)
    return {"gold": gold, "validation": val, "silver": silver}


def build_datasets(s: Settings, corpora: dict[str, Any], tokenizer: PreTrainedTokenizerFast) -> TrainData:
    label2id, ml = s.scheme.label2id, s.train.max_length
    gold, val, silver = corpora["gold"], corpora["validation"], corpora["silver"]

    def enc(c: Any, source: int, weight: float, desc: str) -> Dataset:
        n = len(c)
        return encode(c.tokens, c.tags, label2id, tokenizer, ml,
                      extra_columns={"weight": [weight] * n, "source": [source] * n}, desc=desc)

    gold_ds = enc(gold, GOLD, 1.0, "align train (gold)")
    val_ds = enc(val, GOLD, 1.0, "align validation")
    silver_ds = enc(silver, SILVER, s.silver_weight, "align silver") if silver is not None else None
    if s.strategy in ("joint_uniform", "joint_noise_aware", "joint_partial"):
        train = concatenate_datasets([gold_ds, silver_ds]).shuffle(seed=s.seed)
        phase2 = None
    elif s.strategy == "sequential":
        train, phase2 = gold_ds, silver_ds
    else:
        train, phase2 = gold_ds, None
    stats = {"gold_sentences": len(gold), "silver_sentences": len(silver) if silver is not None else 0,
             "validation_sentences": len(val),
             "train_tokens": int(sum(column(train, "length"))),
             "truncated": sum(column(train, "truncated")) + (sum(column(phase2, "truncated")) if phase2 else 0)}
    return TrainData(train, phase2, val_ds, val.tokens, val.tags, stats)


# ---------------------------------------------------------------------------------------------------------------
# metrics during training
def make_compute_metrics(scheme: LabelScheme):
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


def _argmax_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return logits.argmax(dim=-1)


# ---------------------------------------------------------------------------------------------------------------
def _device_knobs(s: Settings) -> dict[str, Any]:
    """Mixed precision, TF32, workers, pinned memory: automatic on CUDA, overridable by params."""
    cuda = torch.cuda.is_available()
    prec = s.train.precision
    if prec == "auto":
        prec = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    workers = s.train.dataloader_workers
    if workers == "auto":
        workers = min(4, os.cpu_count() or 1) if cuda else 0
    return {"bf16": prec == "bf16", "fp16": prec == "fp16", "tf32": True if cuda else None,
            "dataloader_num_workers": workers, "dataloader_pin_memory": cuda, "use_cpu": not cuda}


def run_fingerprint(s: Settings, data_dir: Path) -> str:
    """Hash of everything that determines a training run (settings + data files + code): guards resume.

    The code counts because `dvc repro` re-runs the train stage after a code change: with the same work dir
    it must train afresh, not "resume" the finished checkpoints the old code left there.
    """
    h = hashlib.sha256(json.dumps(s.model_dump(mode="json"), sort_keys=True).encode())
    for src in sorted(Path(__file__).parent.glob("*.py")):  # the bioner package
        h.update(src.name.encode())
        h.update(src.read_bytes())
    for rel in sorted(DATA_FILES.values()):
        p = data_dir / rel
        if p.is_file():
            # contents, not mtime: `dvc checkout`/`dvc pull` rewrite identical files (about 0.1 s per 30 MB)
            h.update(rel.encode())
            with open(p, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
    return h.hexdigest()[:16]


def _ddp_backend() -> str | None:
    """gloo for multi-process CPU runs; None lets accelerate choose (nccl on CUDA)."""
    return "gloo" if not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None


def _dist_state() -> PartialState:
    """accelerate's process state (the one TrainingArguments sets up too): rank, world size, barriers.

    Under torchrun it joins the process group (same backend as the Trainer); in one process it is inert.
    """
    return PartialState(cpu=not torch.cuda.is_available(), backend=_ddp_backend())


@contextlib.contextmanager
def rank_zero_first():
    """Run the block in global rank 0 first, then in each node's local rank 0, then in every other process.

    For writes into the shared work dir (tiny backbone, checkpoint clean-up): later processes find rank 0's
    result and skip the work; on nodes without a shared filesystem the node's local rank 0 does it once.
    Just runs the block in a single process.
    """
    state = _dist_state()
    with state.main_process_first(), state.local_main_process_first():
        yield


def _training_args(s: Settings, out: Path, epochs: float, lr: float, n_train: int) -> TrainingArguments:
    steps_per_epoch = max(1, -(-n_train // (s.train.batch_size * s.train.gradient_accumulation_steps
                                             * max(1, int(os.environ.get("WORLD_SIZE", "1"))))))
    return TrainingArguments(
        output_dir=str(out),
        num_train_epochs=epochs,
        per_device_train_batch_size=s.train.batch_size,
        per_device_eval_batch_size=s.train.eval_batch_size,
        gradient_accumulation_steps=s.train.gradient_accumulation_steps,
        learning_rate=lr,
        weight_decay=s.train.weight_decay,
        warmup_steps=s.train.warmup_ratio,  # a float < 1 is a ratio of the total steps in transformers 5
        lr_scheduler_type="linear",
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,  # best + last (for resume)
        load_best_model_at_end=True,
        metric_for_best_model="f1",
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=max(1, steps_per_epoch // 10),
        logging_first_step=True,
        seed=s.seed,
        data_seed=s.seed,
        train_sampling_strategy="group_by_length" if s.train.group_by_length else "random",
        length_column_name="length",
        remove_unused_columns=False,
        ddp_find_unused_parameters=False,  # token classifiers use every parameter; True costs a graph walk
        report_to="none",
        disable_tqdm=not os.isatty(2),
        ddp_backend=_ddp_backend(),
        **_device_knobs(s),
    )


def _run_phase(s: Settings, model: Any, tokenizer: PreTrainedTokenizerFast, train_ds: Dataset,
               val_ds: Dataset, out: Path, epochs: float, lr: float, live: Any, step_offset: int,
               o_masks: torch.Tensor | None) -> tuple[Trainer, dict]:
    args = _training_args(s, out, epochs, lr, len(train_ds))
    trainer = WeightedTokenTrainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
        data_collator=Collator(tokenizer, pad_to_multiple_of=8 if torch.cuda.is_available() else None),
        processing_class=tokenizer, compute_metrics=make_compute_metrics(s.scheme),
        preprocess_logits_for_metrics=_argmax_logits, o_masks=o_masks,
        callbacks=[LiveCallback(live, step_offset)] if live is not None else None,
    )
    if args.disable_tqdm:
        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(EpochLogCallback())
    if os.environ.get("BIONER_DEBUG_SHARDS") == "1":
        trainer.add_callback(ShardRecorder())
    with rank_zero_first():  # rank 0 removes an incomplete checkpoint before the others look
        resume = last_complete_checkpoint(out)
    if resume:
        log.info("resuming from %s", resume)
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=resume)
    wall = time.time() - t0
    best = trainer.state.best_metric
    info = {"train_loss": result.training_loss, "best_validation_f1": best, "steps": trainer.state.global_step,
            "wall_s": round(wall, 1), "resumed_from": resume, **peak_memory()}
    if trainer.is_world_process_zero():
        log.info("trained %d steps in %.0f s; peak memory of this process: %s", info["steps"], wall,
                 ", ".join(f"{k[5:-4].upper()} {v:.0f} MiB" for k, v in info.items() if k.startswith("peak_")))
    return trainer, info


def peak_memory() -> dict[str, float]:
    """Peak memory of this process so far, in MiB: RSS (what `dvc queue start -j N` must fit N times) and, on
    CUDA, the peak allocated GPU memory. Per process: a torchrun run uses about train.nproc times the RSS."""
    out: dict[str, float] = {}
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
        out["peak_rss_mib"] = round(rss / (2**20 if sys.platform == "darwin" else 1024), 1)
    except ImportError:  # pragma: no cover - not on Windows
        pass
    if torch.cuda.is_available():
        out["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


def last_complete_checkpoint(out: Path) -> str | None:
    """The newest Trainer checkpoint in `out` that was completely written, or None.

    `get_last_checkpoint` takes the highest-numbered checkpoint-* directory even when a kill interrupted its
    writing; the Trainer writes trainer_state.json last, so a checkpoint without a readable one is incomplete:
    it is deleted (with a warning) and the previous checkpoint is used.
    """
    while out.is_dir() and (last := get_last_checkpoint(str(out))):
        try:
            json.loads((Path(last) / "trainer_state.json").read_text(encoding="utf-8"))
            return last
        except (OSError, ValueError):
            log.warning("removing incomplete checkpoint %s (interrupted while it was written)", last)
            shutil.rmtree(last)
    return None


def _save_model(trainer: Trainer, tokenizer: PreTrainedTokenizerFast, dest: Path, meta: dict) -> None:
    """Write model + tokenizer + label maps to a temp dir, then swap it into `dest` (never half-written)."""
    if not trainer.is_world_process_zero():
        return
    for stale in dest.parent.glob(f".{dest.name}.tmp*"):  # left by a run killed while saving
        shutil.rmtree(stale, ignore_errors=True)
    tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    try:
        trainer.save_model(str(tmp))  # safetensors, config with id2label/label2id, no optimizer state
        tokenizer.save_pretrained(str(tmp))
        write_json(tmp / "bioner.json", meta)
        for junk in ("training_args.bin",):
            (tmp / junk).unlink(missing_ok=True)
        replace_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone after a successful swap; a failed one leaves no debris


def train(s: Settings, output_dir: str | Path, data_dir: str | Path = "data/raw",
          silver_dir: str | Path | None = "data/silver", work_dir: str | Path | None = None,
          live_dir: str | Path | None = None) -> dict:
    """Train one configuration; write output_dir/best_model (and phase1/best_model) + config_snapshot.yaml.

    `work_dir` holds Trainer checkpoints (optimizer state, for resuming after a crash) and the built `tiny`
    backbone; it is keyed by a fingerprint of the settings and data so a changed run never resumes a stale one.
    """
    output_dir, data_dir = Path(output_dir), Path(data_dir)
    silver_dir = Path(silver_dir) if silver_dir else None
    modeling.check_backbone(s.backbone)  # fail fast: before any data or training work
    fp = run_fingerprint(s, data_dir)
    work = Path(work_dir) if work_dir else output_dir.parent / f".{output_dir.name}_work"
    work = work / fp
    if s.train.cpu_threads != "auto":  # per process: under torchrun each of the train.nproc processes
        torch.set_num_threads(int(s.train.cpu_threads))
    dist = _dist_state()  # joins the process group under torchrun; a single process otherwise
    world_size = dist.num_processes
    set_seed(s.seed)
    corpora = load_training_corpora(s, data_dir, silver_dir)

    if s.backbone == "tiny":
        texts = vocab_texts(s, corpora)
        backbone = work / "tiny_backbone"
        with rank_zero_first():  # one process builds it into the shared work dir, the others load it
            if not (backbone / "model.safetensors").is_file():
                modeling.build_tiny(texts, backbone, s.tiny, s.seed,
                                    max_position=max(512, s.train.max_length))
    else:
        backbone = modeling.resolve_backbone(s.backbone)
    tokenizer = modeling.load_tokenizer(backbone)
    data = build_datasets(s, corpora, tokenizer)
    set_seed(s.seed)
    model = modeling.load_for_training(backbone, s.scheme.label2id)

    o_masks = None
    if s.strategy == "joint_partial":
        o_masks = label_masks(s.scheme, {GOLD: s.sources.gold, SILVER: s.sources.silver})

    # what makes runs with different process counts comparable (HF does not rescale the lr with world size)
    scale = {"world_size": world_size, "learning_rate": s.learning_rate,
             "effective_batch_size": s.train.batch_size * s.train.gradient_accumulation_steps * world_size}
    if s.strategy == "sequential":
        scale["phase2_learning_rate"] = s.phase2_learning_rate
    if dist.is_main_process:
        log.info("effective batch size %d (batch %d x grad accum %d x %d processes), lr %g",
                 scale["effective_batch_size"], s.train.batch_size, s.train.gradient_accumulation_steps,
                 world_size, s.learning_rate)
    live = _open_live(live_dir)
    if live is not None:
        live.log_params(scale)
    meta = {"strategy": s.strategy, "backbone": s.backbone, "model_id": str(backbone) if s.backbone == "tiny"
            else s.model_id, "label_scheme": s.scheme.name, "max_length": s.train.max_length, "seed": s.seed}
    summary: dict[str, Any] = {"fingerprint": fp, "data": data.stats}
    try:
        trainer, info = _run_phase(s, model, tokenizer, data.train, data.validation, work / "phase1",
                                   s.train.epochs, s.learning_rate, live, 0, o_masks)
        summary["phase1"] = info
        if s.strategy == "sequential":
            _save_model(trainer, tokenizer, output_dir / "phase1" / "best_model", {**meta, "phase": 1})
            model2 = trainer.model  # phase 1's best (load_best_model_at_end)
            trainer, info2 = _run_phase(s, model2, tokenizer, data.phase2, data.validation, work / "phase2",
                                        s.train.phase2.epochs, s.phase2_learning_rate, live,
                                        trainer.state.global_step, o_masks)
            summary["phase2"] = info2
        _save_model(trainer, tokenizer, output_dir / "best_model", meta)
        if trainer.is_world_process_zero():
            snap = s.resolved()
            snap["resolved"].update(scale)  # the real process count, whatever launched this run
            snap["run"] = summary
            write_yaml(output_dir / "config_snapshot.yaml", snap)
            if live is not None:
                best = summary.get("phase2", summary["phase1"])["best_validation_f1"]
                live.summary["best_validation_f1"] = best
                live.make_summary()
    finally:
        if live is not None:
            live.end()
    return summary


def _open_live(live_dir: str | Path | None) -> Any:
    if live_dir is None or int(os.environ.get("RANK", "0")) != 0:
        return None
    import dvclive.monitor_system
    from dvclive import Live

    if not torch.cuda.is_available():
        # dvclive asks NVML whenever pynvml is importable; without an NVIDIA driver every sample then fails
        # and no system metric (CPU, RAM, disk) is logged at all, after a traceback. No GPU: don't ask.
        dvclive.monitor_system.GPU_AVAILABLE = False
    return Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, monitor_system=True)


def phase_weights_equal(a: Any, b: Any) -> bool:
    """Helper for tests: do two models hold identical encoder weights?"""
    sa, sb = a.state_dict(), b.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa if not k.startswith("classifier"))


__all__ = ["train", "WeightedTokenTrainer", "token_losses", "label_masks", "np"]
