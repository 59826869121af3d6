"""The work dir of a finished run. Its Trainer checkpoints hold the optimizer state (twice the model's size,
per checkpoint, and the Trainer keeps two) only to resume a killed run; once best_model and
config_snapshot.yaml are written, a run keeps what re-running it as a no-op needs: the last checkpoint's
trainer_state.json and the best checkpoint's weights (and the built `tiny` backbone). An unfinished run keeps
everything, to resume from."""

from __future__ import annotations

import errno
import json
import logging
import re
import shutil
from pathlib import Path

from transformers.trainer_utils import get_last_checkpoint

from ..io.atomic_temps import describe

log = logging.getLogger("bioner.training")

PHASES = ("phase1", "phase2")


def _is_weights(name: str) -> bool:
    """model.safetensors, its shards and their index: what `_load_finished` reads."""
    return name.startswith("model") and name.endswith((".safetensors", ".safetensors.index.json"))


def prune_finished(work: Path) -> None:
    """Remove the resume-only state of the finished run in `work` (a fingerprint dir), logging what it freed."""
    freed = 0
    for phase in PHASES:
        last = get_last_checkpoint(str(work / phase)) if (work / phase).is_dir() else None
        if last is None:
            continue
        state = json.loads((Path(last) / "trainer_state.json").read_text(encoding="utf-8"))
        best_name = Path(state.get("best_model_checkpoint") or last).name
        for ckpt in (work / phase).glob("checkpoint-*"):
            for f in [f for f in ckpt.rglob("*") if f.is_file() or f.is_symlink()]:
                keep = (ckpt.name == Path(last).name and f.name == "trainer_state.json") or \
                    (ckpt.name == best_name and _is_weights(f.name))
                if not keep:
                    freed += f.lstat().st_size
                    f.unlink()
            for d in sorted((d for d in ckpt.rglob("*") if d.is_dir()), reverse=True):
                if not any(d.iterdir()):
                    d.rmdir()
            if not any(ckpt.iterdir()):
                ckpt.rmdir()
    if freed:
        log.info("removed the finished run's optimizer state and spare checkpoints from %s (%.1f MB)", work,
                 freed / 1e6)


#: what torch.save's zip writer raises when a write fails (a full disk: "unexpected pos 5696 vs 5588")
_TORCH_WRITER = re.compile(r"PytorchStreamWriter failed writing|inline_container\.cc")
#: below this much free space a failed checkpoint write is taken for a full disk
_NEARLY_FULL = 64 * 2**20


def is_torch_write_error(err: BaseException) -> bool:
    return isinstance(err, RuntimeError) and bool(_TORCH_WRITER.search(str(err)))


def checkpoint_write_cause(err: BaseException, out: Path) -> BaseException:
    """The cause to report for a failed checkpoint write: torch.save's zip-writer message says nothing of the
    disk, so on a (nearly) full filesystem it becomes ENOSPC with the free space and torch's text."""
    if not is_torch_write_error(err):
        return err
    try:
        free = shutil.disk_usage(out).free
    except OSError:
        return err
    if free >= _NEARLY_FULL:
        return err
    return OSError(errno.ENOSPC, f"No space left on device: {free / 2**20:.1f} MiB free; torch.save: {describe(err)}")
