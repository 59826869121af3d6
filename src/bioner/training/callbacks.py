"""Trainer callbacks: one log line per evaluation, and dvclive curves at optimizer-step resolution."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

log = logging.getLogger("bioner.training")


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
