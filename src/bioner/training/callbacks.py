"""Trainer callbacks: one log line per logging step and evaluation, dvclive curves at optimizer-step
resolution, and the run's loss and time kept across resumes."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState

log = logging.getLogger("bioner.training")


class LogLinesCallback(TrainerCallback):
    """One concise log line per logging step and per evaluation, in place of the Trainer's output.

    The Trainer prints each log as a raw dict (numbers formatted as strings) and, off a terminal, nothing
    between evaluations: an epoch of the real data is minutes of silence in a log file. These lines read the
    same in a terminal and in a file: step/total, epoch, loss, learning rate, elapsed and estimated time left.
    """

    def __init__(self) -> None:
        self.t0: float | None = None
        self.first: tuple[float, int] | None = None  # (time, step) of this process's first log line

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: D102
        self.t0 = time.monotonic()
        self.first = None

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D102
        if not state.is_world_process_zero or not logs or "loss" not in logs or self.t0 is None:
            return
        now = time.monotonic()
        elapsed = now - self.t0
        done, total = state.global_step, state.max_steps
        # the time left is extrapolated from the steps since the first log line: the first steps (the first
        # batch, allocations) are far slower than the rest and would inflate it many times
        if self.first is None:
            self.first = (now, done)
        t1, step1 = self.first
        rate = (done - step1) / (now - t1) if now > t1 and done > step1 else None
        left = f", ~{_duration((total - done) / rate)} left" if rate else ""
        log.info("step %d/%d (epoch %.2f): loss %.4f, lr %.2e; %s elapsed%s", done, total, state.epoch or 0,
                 float(logs["loss"]), float(logs.get("learning_rate", float("nan"))), _duration(elapsed), left)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # noqa: D102
        if not state.is_world_process_zero or not metrics:
            return
        per = ", ".join(f"{k[8:]} {v:.3f}" for k, v in metrics.items() if k.startswith("eval_f1_"))
        log.info("epoch %.2f step %d: validation F1 %.4f (%s)", state.epoch or 0, state.global_step,
                 metrics.get("eval_f1", float("nan")), per)


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class RunTally(TrainerCallback, ExportableState):
    """The sum of the training losses and the training time of the whole run, stored in every Trainer checkpoint
    (trainer_state.json, `stateful_callbacks`), so a resumed run can report its mean loss and time over all its
    steps: the Trainer's own `train_loss` and runtime cover only the steps of the process that resumed.

    `process_loss` reads this process's loss sum (WeightedTokenTrainer.process_loss_sum). Under DDP the sum is
    the main process's, like the part of the Trainer's own `train_loss` it stands in for.
    """

    def __init__(self, loss_sum: float | None = 0.0, wall_s: float = 0.0) -> None:
        self.prior_loss, self.prior_wall = loss_sum, wall_s  # the run before this process (resumed checkpoint)
        self.process_loss: Any = lambda: 0.0
        self.t0: float | None = None

    @classmethod
    def from_checkpoint(cls, checkpoint: str | None) -> RunTally:
        """The tally saved in `checkpoint` (None: a fresh run). A checkpoint of an older version without one
        gives an unknown loss sum (None) and no time."""
        if checkpoint is None:
            return cls()
        state = json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))
        saved = (state.get("stateful_callbacks") or {}).get(cls.__name__)
        return cls(**saved["args"]) if isinstance(saved, dict) else cls(loss_sum=None)

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: D102
        self.t0 = time.time()

    def loss_sum(self) -> float | None:
        return None if self.prior_loss is None else self.prior_loss + float(self.process_loss())

    def wall_s(self) -> float:
        return self.prior_wall + (time.time() - self.t0 if self.t0 is not None else 0.0)

    def state(self) -> dict:  # noqa: D102 - what a checkpoint stores
        return {"args": {"loss_sum": self.loss_sum(), "wall_s": round(self.wall_s(), 3)}, "attributes": {}}


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
            if key.endswith(("_runtime", "_samples_per_second", "_steps_per_second")):
                continue
            if key.startswith("eval_"):
                name = "eval/" + key[5:]
            elif key.startswith("train_"):
                name = "train/" + key[6:]
            else:
                name = "train/" + key
            self.live.log_metric(self.prefix + name, float(value))
        self.live.log_metric("epoch", float(state.epoch or 0), plot=False)
        self.live.sync()


def open_live(live_dir: str | Path | None) -> Any:
    """A dvclive `Live` writing into `live_dir` (rank 0 only; None without a directory or on other ranks)."""
    if live_dir is None or int(os.environ.get("RANK", "0")) != 0:
        return None
    import dvclive.monitor_system
    from dvclive import Live

    if not torch.cuda.is_available():
        # dvclive asks NVML whenever pynvml is importable; without an NVIDIA driver every sample then fails
        # and no system metric (CPU, RAM, disk) is logged at all, after a traceback. No GPU: don't ask.
        dvclive.monitor_system.GPU_AVAILABLE = False
    return Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, monitor_system=True)
