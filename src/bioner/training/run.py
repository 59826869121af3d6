"""`train()`: one training run of any strategy, start to finish (docs/design.md s.4).

Load the corpora, prepare the backbone (modeling.prepare_backbone, entered once), encode and combine the data
(data.py), then run one phase, or two for a `phases` strategy (phase 2 starts from phase 1's best model), and
save the best model with its settings snapshot. Best model by validation micro F1 on BC5CDR validation.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from safetensors import SafetensorError
from safetensors.torch import load_model
from transformers import PreTrainedTokenizerFast, Trainer, TrainerState, set_seed
from transformers.trainer_callback import PrinterCallback
from transformers.trainer_utils import load_sharded_checkpoint

from ..io.atomic import check_writable, filling, plain_modes, replace_dir, temp_dir, write_json, write_yaml
from ..io.atomic_temps import OutputError
from ..io.lock import exclusive
from ..settings.settings import Settings
from . import environment, modeling, runtime
from .callbacks import LiveCallback, LogLinesCallback, RunTally, open_live
from .curves import write_curves
from .data import GOLD, SILVER, build_datasets, load_training_corpora, run_inputs, vocab_texts
from .loss import label_masks
from .trainer import Collator, WeightedTokenTrainer, argmax_logits, make_compute_metrics
from .workdir import checkpoint_write_cause, is_torch_write_error, prune_finished

log = logging.getLogger("bioner.training")


def run_phase(s: Settings, model: Any, tokenizer: PreTrainedTokenizerFast, train_ds: Dataset,
              val_ds: Dataset, out: Path, epochs: float, lr: float, live: Any, step_offset: int,
              o_masks: torch.Tensor | None) -> tuple[Trainer, dict]:
    """One Trainer run into `out` (resuming from its last complete checkpoint); return it and its summary.

    The summary describes the run as a whole (`steps`, `train_loss`, `wall_s`: every step, also those of a
    process that was killed and resumed) and, under `process`, what this process did. A run whose last
    checkpoint is already its last step trains nothing: its best checkpoint is loaded as the result.
    """
    tally = RunTally()
    trainer = _make_trainer(s, model, tokenizer, train_ds, val_ds, out, epochs, lr, live, step_offset, o_masks,
                            tally)
    with runtime.rank_zero_first():  # rank 0 removes an incomplete checkpoint before the others look
        resume = runtime.last_complete_checkpoint(out)
    saved = RunTally.from_checkpoint(resume)
    tally.prior_loss, tally.prior_wall = saved.prior_loss, saved.prior_wall
    tally.process_loss = lambda: trainer.process_loss_sum
    start = TrainerState.load_from_json(str(Path(resume) / "trainer_state.json")) if resume else None
    t0 = time.time()
    if start is not None and start.max_steps and start.global_step >= start.max_steps:
        _load_finished(trainer, start, resume)
        result_loss = None
    else:
        if resume:
            log.info("resuming from %s", resume)
        try:
            result_loss = trainer.train(resume_from_checkpoint=resume).training_loss
        except (OSError, SafetensorError, RuntimeError) as err:
            if not _is_checkpoint_write_error(err):
                raise
            raise OutputError(out, checkpoint_write_cause(err, out)) from None  # a checkpoint could not be saved
    wall = time.time() - t0
    first = start.global_step if start else 0
    info = _run_summary(trainer, saved, first, resume, result_loss, wall)
    if trainer.is_world_process_zero():
        _log_summary(out, info, first, wall)
    return trainer, info


def _make_trainer(s: Settings, model: Any, tokenizer: PreTrainedTokenizerFast, train_ds: Dataset,
                  val_ds: Dataset, out: Path, epochs: float, lr: float, live: Any, step_offset: int,
                  o_masks: torch.Tensor | None, tally: RunTally) -> WeightedTokenTrainer:
    args = runtime.training_args(s, out, epochs, lr, len(train_ds))
    trainer = WeightedTokenTrainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
        data_collator=Collator(tokenizer, pad_to_multiple_of=8 if torch.cuda.is_available() else None),
        processing_class=tokenizer, compute_metrics=make_compute_metrics(s.scheme),
        preprocess_logits_for_metrics=argmax_logits, o_masks=o_masks,
        callbacks=[tally, *([LiveCallback(live, step_offset)] if live is not None else [])],
    )
    trainer.remove_callback(PrinterCallback)  # raw log dicts
    trainer.add_callback(LogLinesCallback())
    return trainer


def _run_summary(trainer: Trainer, saved: RunTally, first: int, resume: str | None, result_loss: float | None,
                 wall: float) -> dict:
    """The run's summary: the whole run's steps, loss and time, and what this process did (`process`); `first`:
    the step this process started from."""
    steps = trainer.state.global_step
    done = steps - first
    if first == 0:  # the whole run in this process: the Trainer's own figure
        run_loss = result_loss
    elif saved.prior_loss is None:  # resumed from a checkpoint that holds no loss sum
        run_loss = None
    else:
        run_loss = (saved.prior_loss + (result_loss or 0.0) * done) / max(steps, 1)
    return {"train_loss": run_loss, "best_validation_f1": trainer.state.best_metric, "steps": steps,
            "wall_s": round(saved.prior_wall + (wall if done else 0.0), 1), "resumed_from": resume,
            "process": {"steps": done, "train_loss": result_loss, "wall_s": round(wall, 1)},
            **runtime.peak_memory()}


def _log_summary(out: Path, info: dict, first: int, wall: float) -> None:
    run_loss, steps, resume, done = info["train_loss"], info["steps"], info["resumed_from"], info["process"]["steps"]
    mem = ", ".join(f"{k[5:-4].upper()} {v:.0f} MiB" for k, v in info.items() if k.startswith("peak_"))
    loss = f"{run_loss:.4f}" if run_loss is not None else "unknown (resumed from an older checkpoint)"
    if done == 0:
        log.info("%s: the run already finished at step %d (%s): nothing to train; train loss %s",
                 out, steps, resume, loss)
    elif first == 0:
        log.info("trained %d steps in %.0f s, train loss %s; peak memory of this process: %s", steps, wall,
                 loss, mem)
    else:
        log.info("this process trained steps %d-%d (%d steps) in %.0f s; the run: %d steps, train loss %s, "
                 "%.0f s; peak memory of this process: %s", first + 1, steps, done, wall, steps, loss,
                 info["wall_s"], mem)


def _load_finished(trainer: Trainer, state: TrainerState, last: str) -> None:
    """A finished run: the Trainer takes its state and best model from the checkpoints instead of training.

    (Resuming it would run one more optimizer step each time after fractional epochs: transformers checks the
    step budget only after a step.)"""
    trainer.state = state
    best = Path(state.best_model_checkpoint or last)
    if not best.is_dir():  # a relative path saved from another working directory
        best = Path(last).parent / best.name
    if (best / "model.safetensors").is_file():
        load_model(trainer.model, best / "model.safetensors", device=str(next(trainer.model.parameters()).device))
    else:  # sharded (a large backbone)
        load_sharded_checkpoint(trainer.model, str(best), prefer_safe=True)


_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO)


def _is_checkpoint_write_error(err: BaseException) -> bool:
    """Saving a Trainer checkpoint failed: an OS write error, safetensors' or torch.save's version of it."""
    if isinstance(err, OutputError | SafetensorError):
        return True
    if isinstance(err, OSError):
        return err.errno in _WRITE_ERRNOS
    return is_torch_write_error(err)  # torch.save (optimizer state) on a full disk


def save_model(trainer: Trainer, tokenizer: PreTrainedTokenizerFast, dest: Path, meta: dict) -> None:
    """Write model + tokenizer + label maps to a temp dir, then swap it into `dest` (never half-written).

    A full disk is an OutputError naming `dest`; temp dirs of runs killed while saving are removed, never one
    whose owner still runs."""
    if not trainer.is_world_process_zero():
        return
    existed = dest.exists()
    tmp = temp_dir(dest)
    try:
        with filling(tmp, dest, existed, also=(SafetensorError,)):
            trainer.save_model(str(tmp))  # safetensors, config with id2label/label2id, no optimizer state
            tokenizer.save_pretrained(str(tmp))
            write_json(tmp / "bioner.json", meta)
            (tmp / "training_args.bin").unlink(missing_ok=True)
            plain_modes(tmp)  # model.safetensors is written 0600: unreadable to the team
        replace_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone after a successful swap; a failed one leaves no debris


def train(s: Settings, output_dir: str | Path, data_dir: str | Path = "data/raw",
          silver_dir: str | Path | None = "data/silver", work_dir: str | Path | None = None,
          live_dir: str | Path | None = None) -> dict:
    """Train one configuration; write output_dir/best_model (and phase1/best_model) + config_snapshot.yaml.

    `work_dir` holds Trainer checkpoints (optimizer state, for resuming after a crash) and the built `tiny`
    backbone; it is keyed by a fingerprint of the settings and data so a changed run never resumes a stale one.
    The caller checks the backbone first (`modeling.check_backbone`, as `bioner train` does before any launch).

    Before any data is read: the outputs must be writable, and no other process may be writing `output_dir`
    or this run's work dir (a lock naming the other process; it is released when its holder exits, however).
    A run that fails leaves no `output_dir` it created.
    """
    output_dir, data_dir = Path(output_dir), Path(data_dir)
    fp = runtime.run_fingerprint(s, data_dir)
    work = (Path(work_dir) if work_dir else output_dir.parent / f".{output_dir.name}_work") / fp
    created = not output_dir.exists()
    try:
        with contextlib.ExitStack() as stack:
            if int(os.environ.get("RANK", "0")) == 0:  # under torchrun the global rank 0 writes the outputs
                for path in (output_dir, work, *([Path(live_dir)] if live_dir else [])):
                    check_writable(path, "dir")  # not after hours of training
                out_abs = output_dir.resolve()  # `--output_dir .` has no name of its own
                stack.enter_context(exclusive(
                    out_abs.with_name(f".{out_abs.name or 'root'}.lock"),
                    f"{output_dir}: another training is writing this output directory ({{holder}}); wait for it "
                    "to finish or give another --output_dir"))
                stack.enter_context(exclusive(
                    work / ".lock", f"{work}: another training with the same settings and data is running in "
                    "this work directory ({holder}); wait for it to finish or give another --work_dir"))
            summary = _train(s, output_dir, data_dir, Path(silver_dir) if silver_dir else None, work, fp, live_dir)
            if int(os.environ.get("RANK", "0")) == 0:
                prune_finished(work)  # best_model is written: the optimizer state was only for resuming
            return summary
    except BaseException:
        if created and output_dir.is_dir() and not any(output_dir.iterdir()):
            output_dir.rmdir()  # nothing was written into it
        raise


def _scale(s: Settings, dist: Any) -> dict[str, Any]:
    """What makes runs with different process counts comparable (HF does not rescale the lr with world size)."""
    world_size = dist.num_processes
    scale = {"world_size": world_size, "learning_rate": s.learning_rate,
             "effective_batch_size": s.train.batch_size * s.train.gradient_accumulation_steps * world_size}
    if s.strategy_record.phases == 2:
        scale["phase2_learning_rate"] = s.phase2_learning_rate
    if dist.is_main_process:
        log.info("effective batch size %d (batch %d x grad accum %d x %d processes), lr %g",
                 scale["effective_batch_size"], s.train.batch_size, s.train.gradient_accumulation_steps,
                 world_size, s.learning_rate)
    return scale


def _summary(s: Settings, fp: str, stats: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The run summary of config_snapshot.yaml before training: data, threads, inputs, environment, lock."""
    summary: dict[str, Any] = {"fingerprint": fp, "data": stats, "cpu_threads": torch.get_num_threads(),
                               "inputs": inputs}
    knobs = runtime.device_knobs(s)
    summary["environment"] = environment.numerics(torch.get_num_threads(), environment.precision_name(knobs),
                                                  knobs["tf32"])
    summary["lock"] = environment.lock_state(Path(environment.LOCK_FILE))  # the checkout's lock vs installed
    return summary


def _train(s: Settings, output_dir: Path, data_dir: Path, silver_dir: Path | None, work: Path, fp: str,
           live_dir: str | Path | None) -> dict:
    strategy = s.strategy_record
    torch.set_num_threads(runtime.cpu_threads(s))  # per process: under torchrun each of the train.nproc
    dist = runtime.dist_state()  # joins the process group under torchrun; a single process otherwise
    say = log.info if dist.is_main_process else log.debug  # progress lines once, not once per process
    set_seed(s.seed)
    corpora = load_training_corpora(s, data_dir, silver_dir)
    n_silver = len(corpora["silver"]) if corpora["silver"] is not None else 0
    say("data: %d gold + %d silver training sentences, %d validation (%s)", len(corpora["gold"]), n_silver,
        len(corpora["validation"]), data_dir)
    backbone = modeling.prepare_backbone(s, lambda: vocab_texts(s, corpora), work / "tiny_backbone",
                                         build_guard=runtime.rank_zero_first)
    tokenizer = backbone.tokenizer
    data = build_datasets(s, corpora, tokenizer)
    say("model: %s, %.1f M parameters; %d training sentences encoded (%d truncated)", s.model_id,
        sum(p.numel() for p in backbone.model.parameters()) / 1e6, len(data.train), data.stats["truncated"])
    o_masks = label_masks(s.scheme, {GOLD: s.entity_types.gold, SILVER: s.entity_types.silver}) \
        if strategy.partial_labels else None

    scale = _scale(s, dist)
    live = open_live(live_dir)
    if live is not None:
        live.log_params(scale)
    meta = {"strategy": s.strategy, "backbone": s.backbone,
            "model_id": s.model_id,  # for `tiny` the alias: its built directory is in the deletable work dir
            "label_scheme": s.scheme.name, "max_length": s.train.max_length, "seed": s.seed}
    summary = _summary(s, fp, data.stats, run_inputs(data_dir, silver_dir, corpora["silver"]))
    try:
        trainer, summary["phase1"] = run_phase(s, backbone.model, tokenizer, data.train, data.validation,
                                               work / "phase1", s.train.epochs, s.learning_rate, live, 0, o_masks)
        if strategy.phases == 2:
            save_model(trainer, tokenizer, output_dir / "phase1" / "best_model", {**meta, "phase": 1})
            # phase 1's best model (load_best_model_at_end) continues on silver
            trainer, summary["phase2"] = run_phase(s, trainer.model, tokenizer, data.phase2, data.validation,
                                                   work / "phase2", s.train.phase2.epochs, s.phase2_learning_rate,
                                                   live, trainer.state.global_step, o_masks)
        save_model(trainer, tokenizer, output_dir / "best_model", meta)
        if trainer.is_world_process_zero():
            snap = s.resolved()
            snap["resolved"].update(scale)  # the real process count, whatever launched this run
            snap["run"] = summary
            write_yaml(output_dir / "config_snapshot.yaml", snap)
            if live is not None:
                live.summary["best_validation_f1"] = summary.get("phase2", summary["phase1"])["best_validation_f1"]
                live.make_summary()
    finally:
        if live is not None:
            live.end()
    if live is not None and live_dir is not None:
        write_curves(live_dir)  # the curves as a PNG, readable offline
    return summary
