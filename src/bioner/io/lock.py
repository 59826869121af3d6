"""One writer per output: an exclusive lock held while a run writes a directory, naming its holder.

Two `bioner train` runs into one --output_dir would delete each other's half-written model. The lock is a
file `.<name>.lock` beside the directory, locked with `flock` (the kernel drops it when the holder dies, even on
`kill -9`, so a lock is never stale) and holding the holder's pid, host, start time and command line for the
refusal message. Hand-written rather than `filelock.FileLock`: that one truncates the lock file on every
attempt to acquire it, so a refused process could not say who holds it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import UserError
from .atomic import make_parents, remove_empty
from .atomic_temps import HOST

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking
    fcntl = None  # type: ignore[assignment]


class LockedError(UserError):
    """Another live process holds the lock; the message names it (one line, exit 2)."""


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    return text or "a process that is starting up"


@contextlib.contextmanager
def exclusive(lock: str | os.PathLike, refusal: str) -> Iterator[None]:
    """Hold an exclusive lock on the file `lock` for the block; if another process holds it, raise
    LockedError(`refusal` with `{holder}` filled in). The lock file is removed on release."""
    lock = Path(lock)
    if fcntl is None:  # pragma: no cover
        yield
        return
    created = make_parents(lock)  # removed again on release if still empty (a run that failed early)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise LockedError(refusal.format(holder=holder)) from None
        try:  # the previous holder may have removed the file between our open and flock: lock the new one
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        cmd = shlex.join([Path(sys.argv[0]).name or "python", *sys.argv[1:]])
        os.write(fd, f"process {os.getpid()} on {HOST}, since {time.strftime('%Y-%m-%d %H:%M:%S')}: {cmd}"
                 .encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # while still holding it: a waiter that opened the old file retries on a new one
        os.close(fd)
        remove_empty(created)
