"""Where and how a training run executes: devices, processes (DDP), TrainingArguments, resume, memory.

Resume: `run_fingerprint` keys the work dir by settings, data and code, and `last_complete_checkpoint` skips a
checkpoint a kill left half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import torch
from accelerate import PartialState
from transformers import TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from ..settings.labels import DATA_FILES
from ..settings.settings import Settings
from .threads import auto_threads

log = logging.getLogger("bioner.training")

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/bioner: its code is part of the fingerprint


def device_knobs(s: Settings) -> dict[str, Any]:
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
    for src in sorted(PACKAGE_DIR.rglob("*.py")):  # the bioner package, training/ included
        h.update(src.relative_to(PACKAGE_DIR).as_posix().encode())
        h.update(src.read_bytes())
    for rel in sorted(DATA_FILES.values()):
        p = data_dir / rel
        if p.is_file():
            # contents, not mtime: `dvc checkout`/`dvc pull` rewrite identical files
            h.update(rel.encode())
            with open(p, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
    return h.hexdigest()[:16]


def cpu_threads(s: Settings) -> int:
    """torch CPU threads of this process: train.cpu_threads, or for `auto` the idle cores (bioner.training.threads)."""
    if s.train.cpu_threads != "auto":
        return int(s.train.cpu_threads)
    threads, why = auto_threads()
    if os.environ.get("RANK", "0") == "0":
        log.info("torch CPU threads: %d (train.cpu_threads=auto: %s)", threads, why)
    return threads


def ddp_backend() -> str | None:
    """gloo for multi-process CPU runs; None lets accelerate choose (nccl on CUDA)."""
    return "gloo" if not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None


def dist_state() -> PartialState:
    """accelerate's process state (the one TrainingArguments sets up too): rank, world size, barriers.

    Under torchrun it joins the process group (same backend as the Trainer); in one process it is inert.
    """
    return PartialState(cpu=not torch.cuda.is_available(), backend=ddp_backend())


@contextlib.contextmanager
def rank_zero_first():
    """Run the block in global rank 0 first, then in each node's local rank 0, then in every other process.

    For writes into the shared work dir (tiny backbone, checkpoint clean-up): later processes find rank 0's
    result and skip the work; on nodes without a shared filesystem the node's local rank 0 does it once.
    Just runs the block in a single process.
    """
    state = dist_state()
    with state.main_process_first(), state.local_main_process_first():
        yield


def training_args(s: Settings, out: Path, epochs: float, lr: float, n_train: int) -> TrainingArguments:
    """The TrainingArguments of one phase: evaluation and a checkpoint every epoch, best model by F1."""
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
        disable_tqdm=True,  # callbacks.LogLinesCallback prints one line per logging step instead
        ddp_backend=ddp_backend(),
        **device_knobs(s),
    )


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
