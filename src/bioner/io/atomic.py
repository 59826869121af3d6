"""Atomic outputs: write to a temp path beside the destination, then rename it into place.

A crash never leaves a half-written output, and a reader never sees one. Around that:

- **Modes.** A new file or directory gets the mode a plain `open()` / `mkdir()` would give it (0666 / 0777
  minus the umask); overwriting keeps the existing file's mode. (`tempfile.mkstemp` would make every output
  0600, unreadable to a teammate or a web server.)
- **Errors.** A failed write (full disk, read-only filesystem, no permission, a file where a directory should
  be) raises `OutputError`: one line naming the destination, not the temp path, and the cause; the previous
  output is untouched and no temp file or newly created empty directory is left.
- **Leftovers.** Temp names carry their owner, `.<name>.tmp-<host>-<pid>-<random>`. A process killed while
  writing (`kill -9`) leaves its temp behind; the next write to the same destination removes it if its owner
  is gone, and never touches one whose owner still runs (another process may be writing it right now).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from .atomic_temps import HOST, OutputError, clean_stale, temp_name


# ------------------------------------------------------------------------------------------- directories
def _nearest_existing(path: Path) -> Path:
    p = path
    while not os.path.lexists(p):
        if p.parent == p:
            break
        p = p.parent
    return p


def make_parents(dest: Path) -> list[Path]:
    """Create `dest`'s parent directories; return those created (outermost first) so a failure can remove
    them again. A file in the way is an OutputError naming it."""
    parent = dest.parent
    base = _nearest_existing(parent)
    if not base.is_dir():
        raise OutputError(dest, f"{base} is a file, not a directory", existed=False)
    missing = [p for p in [parent, *parent.parents] if p != base and base in p.parents][::-1]
    created = []
    try:
        for p in missing:
            os.mkdir(p)  # mode 0777 minus the umask, like mkdir(1)
            created.append(p)
    except FileExistsError:
        pass  # made by another process meanwhile: fine
    except OSError as err:
        remove_empty(created)
        raise OutputError(dest, err, existed=False) from None
    return created


def remove_empty(dirs: list[Path]) -> None:
    """rmdir each of `dirs` (innermost first) that is still empty."""
    for d in reversed(dirs):
        with contextlib.suppress(OSError):
            d.rmdir()


def check_writable(dest: str | os.PathLike, kind: str = "file") -> None:
    """Raise OutputError now if `dest` (a file or a directory) cannot be written, before any long work.

    Probes by creating (and removing) a directory where `dest`'s contents would go: permission bits alone
    mislead (root, ACLs, read-only mounts).
    """
    dest = Path(dest)
    if dest.exists():
        if kind == "file" and dest.is_dir():
            raise OutputError(dest, "it is a directory; give a file name")
        if kind == "dir" and not dest.is_dir():
            raise OutputError(dest, "it is a file, not a directory")
    where = dest if kind == "dir" and dest.is_dir() else _nearest_existing(dest.parent)
    if not where.is_dir():
        raise OutputError(dest, f"{where} is a file, not a directory")
    probe = where / f".{dest.name}.tmp-{HOST}-{os.getpid()}-probe{secrets.token_hex(2)}"
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as err:
        raise OutputError(dest, err) from None


def _existing_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def current_umask() -> int:
    """The process umask, read without changing it where Linux's /proc allows (os.umask can only set it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def plain_modes(root: str | os.PathLike) -> None:
    """Give everything under `root` the mode a plain open()/mkdir() gives: library writers differ
    (safetensors always writes 0600)."""
    mask = current_umask()
    for p in Path(root).rglob("*"):
        if not p.is_symlink():
            os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)


def temp_dir(dest: str | os.PathLike) -> Path:
    """Create and return a temp directory beside `dest` (owner in its name; stale ones of `dest` removed)."""
    dest = Path(dest)
    make_parents(dest)
    clean_stale(dest)
    tmp = temp_name(dest)
    try:
        os.mkdir(tmp)  # 0777 minus the umask (tempfile.mkdtemp would give 0700)
    except OSError as err:
        raise OutputError(dest, err, existed=dest.exists()) from None
    return tmp


@contextlib.contextmanager
def filling(tmp: Path, dest: Path, existed: bool, also: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Errors while writing the temp directory `tmp` of `dest` become OutputErrors naming `dest`.

    OSErrors that name no file or a file inside `tmp` count (and those of `also`, e.g. safetensors' Rust
    I/O errors); an error about another path (an input that could not be read) passes through.
    """
    try:
        yield
    except (OSError, *also) as err:
        if isinstance(err, OutputError):
            inside, cause = tmp == err.dest or tmp in err.dest.parents, err.cause
        elif isinstance(err, OSError):
            named = [Path(f) for f in (err.filename, getattr(err, "filename2", None)) if f]
            inside, cause = not named or any(tmp == f or tmp in f.parents for f in named), err
        else:
            inside, cause = True, err
        if not inside:
            raise
        raise OutputError(dest, cause, existed=existed) from None


# ------------------------------------------------------------------------------------------- files
def _is_write_error(err: BaseException, tmp: Path, dest: Path) -> bool:
    """An OSError of writing the temp file (it names no file, or ours), not of something the body read."""
    return isinstance(err, OSError) and not isinstance(err, OutputError) and \
        err.filename in (None, str(tmp), str(dest))


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file beside `path`; on success rename it onto `path`, on error delete it.

    Write errors come out as OutputError naming `path`. Stale temps of `path` left by dead processes are
    removed first.
    """
    path = Path(path)
    existed = path.exists()
    if path.is_dir():
        raise OutputError(path, "it is a directory; give a file name")
    created = make_parents(path)
    clean_stale(path)
    tmp = temp_name(path)
    try:
        # O_EXCL with mode 0666: the kernel applies the umask, as for a plain open()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as err:
        remove_empty(created)
        raise OutputError(path, err, existed=existed) from None
    try:
        old_mode = _existing_mode(path)
        if old_mode is not None:
            os.chmod(tmp, old_mode)  # overwriting keeps the file's mode
        with open(fd, mode, encoding=None if "b" in mode else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        remove_empty(created)
        if _is_write_error(err, tmp, path):
            raise OutputError(path, err, existed=existed) from None
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path) as fh:
        json.dump(obj, fh, indent=2, sort_keys=False)
        fh.write("\n")


def write_yaml(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path) as fh:
        yaml.safe_dump(obj, fh, sort_keys=False)


def replace_dir(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Move a fully written directory `src` onto `dst`, replacing any old one (old one removed last).

    Two renames (Linux has no portable atomic directory exchange): old -> .old, src -> dst. If the second
    fails the old one is put back; only a kill in the microseconds between them leaves dst missing (with
    `.<name>.old` beside it). An existing `dst` keeps its mode. Errors are OutputError naming `dst`.
    """
    src, dst = Path(src), Path(dst)
    existed = dst.is_dir()
    make_parents(dst)
    old = dst.with_name(f".{dst.name}.old")
    try:
        old_mode = _existing_mode(dst)
        if old_mode is not None:
            os.chmod(src, old_mode)
        if old.exists():
            shutil.rmtree(old)
        if dst.exists():
            os.replace(dst, old)
        try:
            os.replace(src, dst)
        except BaseException:
            if old.exists() and not dst.exists():
                os.replace(old, dst)  # put the previous version back: a failed swap changes nothing
            raise
    except OSError as err:
        if isinstance(err, OutputError):
            raise
        raise OutputError(dst, err, existed=existed) from None
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
