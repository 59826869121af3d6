"""bioner.tagging.memory: glibc's mmap threshold fixed, so large tensors are not kept on a fragmenting heap."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                                reason="glibc's allocator only")

# Free an 8 MiB block (glibc's adaptive rule then raises the threshold to 8 MiB), allocate 6 MiB, and say whether
# it came from the heap ([heap] in /proc/self/maps) or from mmap.
PROBE = """
import ctypes, sys
from bioner.tagging.memory import fix_mmap_threshold
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
fixed = fix_mmap_threshold() if sys.argv[1] == "fix" else None
libc.free(libc.malloc(8 << 20))
q = libc.malloc(6 << 20)
heap = [tuple(int(x, 16) for x in line.split()[0].split("-")) for line in open("/proc/self/maps")
        if line.rstrip().endswith("[heap]")]
print(fixed, any(a <= q < b for a, b in heap))
"""


def probe(mode: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    res = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                         env={**clean, **env})
    return res.stdout.strip()


def test_adaptive_threshold_moves_large_blocks_onto_the_heap() -> None:
    assert probe("adaptive") == "None True"  # what fix_mmap_threshold exists to prevent


def test_fixed_threshold_keeps_large_blocks_on_mmap() -> None:
    assert probe("fix") == "True False"


def test_a_threshold_the_user_set_is_left_alone() -> None:
    assert probe("fix", MALLOC_MMAP_THRESHOLD_="33554432") == "False True"
