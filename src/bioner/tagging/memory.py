"""A bounded memory footprint for long predictions: glibc's mmap threshold fixed instead of adaptive.

Why: glibc serves allocations above its mmap threshold with mmap (returned to the system on free) and the rest
from its heap (kept). The threshold adapts: each freed mmap chunk raises it to that chunk's size, up to 32 MiB.
One batch of long sentences (attention maps of tens of MiB) therefore moves nearly every later tensor onto the
heap, where varying batch shapes fragment it: the process grows by hundreds of MiB over a corpus and never
shrinks. Fixing the threshold (the documented `MALLOC_MMAP_THRESHOLD_`, set here through `mallopt` because the
environment variable is read only at process start) keeps large tensors on mmap. It costs page faults on every
large allocation, a slower forward pass; docs/benchmarks.md s.4 has both sides, per backbone.

Torch exposes no CPU caching allocator to Python (its CPU tensors come from the C allocator), and bucketing
batch shapes to a few widths bounded less for more padding (same section).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

#: mallopt parameter number of M_MMAP_THRESHOLD (glibc's malloc.h)
M_MMAP_THRESHOLD = -3
#: bytes; tensors at least this large are mmapped
DEFAULT_THRESHOLD = 4 * 1024 * 1024
#: set by a user who chose the allocator's behaviour; then it is left alone
ENV = "MALLOC_MMAP_THRESHOLD_"


def fix_mmap_threshold(threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at `threshold` bytes for this process; True if it was set.

    Does nothing (False) when the user set MALLOC_MMAP_THRESHOLD_ (their choice stands), off Linux, or where the C
    library has no `mallopt` or refuses the value (e.g. musl).
    """
    if os.environ.get(ENV) is not None or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on; no library search
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, threshold) == 1
    log.debug("mmap threshold fixed at %d bytes: %s", threshold, done)
    return done
