"""Inference precision of a Tagger: fp32 (default) or bf16, the latter only where the hardware computes it
natively (a CUDA GPU with bf16, or a CPU with AVX512-BF16 / AMX-BF16): elsewhere torch emulates it, slower
than fp32. Speed and F1 beside int8: docs/benchmarks.md s.5."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .load import TaggerError

if TYPE_CHECKING:
    from transformers import PreTrainedModel

PRECISIONS = ("fp32", "bf16")
#: /proc/cpuinfo flags of a CPU with native bf16 matrix arithmetic (what oneDNN uses for bf16 Linear layers)
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


class PrecisionError(TaggerError):
    """A precision asked for where it cannot run (unknown, combined with int8, or no native bf16)."""


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Linux: the CPU flags name native bf16 arithmetic. Other systems: not detected (False)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        flags = {f for line in cpuinfo.read_text().splitlines() if line.startswith("flags") for f in line.split()}
    except OSError:
        return False
    return any(f in flags for f in CPU_BF16_FLAGS)


def check_precision(precision: str, device: torch.device, quantize: str | None) -> None:
    """PrecisionError (one line) unless `precision` can run on `device` as asked."""
    if precision not in PRECISIONS:
        raise PrecisionError(f"precision={precision!r}: allowed values are {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return
    if quantize:
        raise PrecisionError(f"precision={precision!r} and quantize={quantize!r} exclude each other; use one")
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise PrecisionError(f"precision='bf16': the GPU {device} has no bf16 support; use fp32")
    if device.type == "cpu" and not cpu_has_bf16():
        raise PrecisionError("precision='bf16' runs only on a CPU with native bf16 (AVX512-BF16 or AMX-BF16 in "
                             "/proc/cpuinfo's flags), which this one lacks (torch would emulate it, slower than "
                             "fp32); use fp32, or quantize='int8'")
    if device.type not in ("cpu", "cuda"):
        raise PrecisionError(f"precision='bf16' runs on cpu or cuda, not {device.type}; use fp32")


def apply_precision(model: PreTrainedModel, precision: str) -> PreTrainedModel:
    """The model in `precision` (checked by `check_precision` first); scores are computed in fp32 either way."""
    return model.to(torch.bfloat16) if precision == "bf16" else model
