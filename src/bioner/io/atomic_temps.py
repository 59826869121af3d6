"""The layer under bioner.io.atomic: `OutputError` (one line naming the destination and the cause), temp names
that carry their owner (`.<name>.tmp-<host>-<pid>-<random>`) and the removal of temps whose owner is gone.
`bioner.io.atomic` re-exports every name here."""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import shutil
import socket
from pathlib import Path

#: the logger of bioner.io.atomic, which these functions were part of: log lines keep its name
log = logging.getLogger("bioner.io.atomic")

#: this machine in temp names: a pid means nothing on another host that shares the filesystem
HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname().split(".")[0]) or "host"


class OutputError(OSError):
    """An output that could not be written; the message names the destination and the cause (one line)."""

    def __init__(self, dest: str | os.PathLike, cause: BaseException | str, existed: bool | None = None) -> None:
        self.dest = Path(dest)
        self.cause = cause
        code = getattr(cause, "errno", None)
        reason = describe(cause)
        msg = f"{self.dest}: cannot write it ({reason})"
        if existed is not None:
            msg += "; the previous version is unchanged" if existed else "; nothing was written"
        if code in (errno.ENOSPC, errno.EDQUOT) or "No space left" in reason:
            msg += ". Fix: free space on that filesystem (or write elsewhere) and run again"
        elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
            msg += ". Fix: choose a writable location"
        super().__init__(code, msg)

    def __str__(self) -> str:
        return self.strerror or ""


def describe(err: BaseException | str) -> str:
    """A short cause: the OS error text, or the message inside a Rust I/O error (safetensors)."""
    if isinstance(err, str):
        return err
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    m = re.search(r'message: "([^"]+)"', text)  # SafetensorError: ... IoError(Os { code: 28, ... message: "..." })
    return m.group(1) if m else text


# ------------------------------------------------------------------------------------------- temp names
def temp_name(dest: Path) -> Path:
    """A fresh temp path beside `dest` that names this process as its owner."""
    return dest.with_name(f".{dest.name}.tmp-{HOST}-{os.getpid()}-{secrets.token_hex(4)}")


def _owner(dest: Path, entry: Path) -> tuple[str, int] | None:
    """(host, pid) encoded in a temp path of `dest`, or None if `entry` is not one."""
    rest = entry.name.removeprefix(f".{dest.name}.tmp")
    if rest == entry.name:
        return None
    if rest.isdigit():  # `.name.tmp<pid>`: the temp model dirs of earlier versions
        return HOST, int(rest)
    parts = rest[1:].rsplit("-", 2) if rest.startswith("-") else []
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1])
    return None


def pid_alive(pid: int) -> bool:
    """Is process `pid` running on this machine?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def clean_stale(dest: str | os.PathLike) -> list[Path]:
    """Remove the temp files/dirs of `dest` whose owner process is gone; return what was removed.

    A temp of a live process (this one included) is left alone; one from another host is only reported,
    since its owner cannot be checked from here.
    """
    dest = Path(dest)
    removed: list[Path] = []
    try:
        entries = list(dest.parent.glob(f".{glob_escape(dest.name)}.tmp*"))
    except OSError:
        return removed
    for entry in entries:
        owner = _owner(dest, entry)
        if owner is None:
            continue
        host, pid = owner
        if host != HOST:
            log.warning("%s: temp file of process %d on host %s left beside %s; not removed (cannot check "
                        "that host's processes from here)", entry, pid, host, dest)
            continue
        if pid_alive(pid):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue  # another process cleaned it first
        except OSError as err:
            log.warning("%s: stale temp file (process %d is gone) could not be removed: %s", entry, pid,
                        describe(err))
            continue
        log.warning("removed %s, a temp file left by process %d (no longer running) while writing %s",
                    entry, pid, dest)
        removed.append(entry)
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)
