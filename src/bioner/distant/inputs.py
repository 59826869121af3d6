"""The files the `distant` settings name, their content hashes, and cheap checks that they exist and parse.

DVC tracks a dependency by path, and a dictionary given by an absolute path outside the data directory is
no dependency at all: the `distant_inputs` stage (always run) writes these hashes to a stamp file that the
`distant` stage depends on, so `distant` re-runs exactly when the content of a named file changes. The same
hashes go into metrics/distant.json (what the labels were made from). `bioner validate` runs `check_inputs`
before DVC deletes any output.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..io.atomic import write_json
from ..io.hashing import file_sha256
from ..settings.dictionaries import SourceSpec, TaxdumpSource, parse_sources
from .errors import DistantError
from .merge import missing_file, resolve, source_label

if TYPE_CHECKING:
    from ..settings.sections import DistantSettings

#: hex digits of a sha256 shown in metrics (enough to tell two versions apart; the stamp keeps the whole hash)
SHORT = 12


class NamedFile(NamedTuple):
    """A file a `distant` setting names."""

    setting: str  # distant.dictionaries.Virus[1], distant.stop
    key: str  # the same as a metrics key: Virus_1, stop
    spec: SourceSpec | None  # None for the stop list
    path: Path  # resolved against the data directory


def named_files(dictionaries: dict[str, Any], stop: str | list[str],
                base_dir: str | os.PathLike | None) -> list[NamedFile]:
    """Every file the settings name, in settings order."""
    out: list[NamedFile] = []
    for t, entry in dictionaries.items():
        try:
            specs = parse_sources(entry, f"distant.dictionaries.{t}")
        except ValueError as e:
            raise DistantError(str(e)) from None
        for i, spec in enumerate(specs):
            many = len(specs) > 1
            out.append(NamedFile(f"distant.dictionaries.{t}" + (f"[{i}]" if many else ""),
                                 t + (f"_{i}" if many else ""), spec, resolve(spec.path, base_dir)))
    if isinstance(stop, str):
        out.append(NamedFile("distant.stop", "stop", None, resolve(stop, base_dir)))
    return out


def _files_of(spec: SourceSpec | None, path: Path) -> list[Path]:
    if isinstance(spec, TaxdumpSource) and path.is_dir():
        return [path / "nodes.dmp", path / "names.dmp"]
    return [path]


def content_hashes(dictionaries: dict[str, Any], stop: str | list[str],
                   base_dir: str | os.PathLike | None) -> dict[str, dict[str, str]]:
    """{key: {"setting", "source", "path", "sha256"}} for every named file (a taxdump folder: one per file)."""
    out: dict[str, dict[str, str]] = {}
    for nf in named_files(dictionaries, stop, base_dir):
        files = _files_of(nf.spec, nf.path)
        for f in files:
            if not f.is_file():
                raise missing_file(nf.setting, nf.spec, f)
            key = nf.key if len(files) == 1 else f"{nf.key}_{f.stem}"
            label = source_label(nf.spec) if nf.spec is not None else f"stop:{stop}"
            out[key] = {"setting": nf.setting, "source": label, "path": str(f), "sha256": file_sha256(f)}
    return out


def hash_metrics(hashes: dict[str, dict[str, str]]) -> dict[str, str]:
    """Flat metrics: sha256_<key> -> the first hex digits of the file's sha256."""
    return {f"sha256_{k}": v["sha256"][:SHORT] for k, v in hashes.items()}


def check_inputs(dictionaries: dict[str, Any], stop: str | list[str], base_dir: str | os.PathLike | None,
                 *, skip_relative: bool = False) -> int:
    """Every named file exists and its format's header parses (cheap: no file is read whole except hand lists
    and stop lists, which are small); DistantError otherwise. Relative paths are skipped with `skip_relative`
    (no data directory to resolve them against yet). Returns the number of files checked."""
    from . import checks

    n = 0
    for nf in named_files(dictionaries, stop, None if skip_relative else base_dir):
        if skip_relative and not nf.path.is_absolute():
            continue
        checks.check_file(nf.setting, nf.spec, nf.path)
        n += 1
    return n


def write_stamp(path: str | os.PathLike, cfg: DistantSettings, data_dir: str | os.PathLike) -> int:
    """Write the stamp: {"mode", "files": content_hashes} (relabel mode; keep mode reads no file). Its content
    changes exactly when a named file's content (or the mode) does. Returns the number of files hashed."""
    hashes = content_hashes(cfg.dictionaries, cfg.stop, data_dir) if cfg.mode == "relabel" else {}
    write_json(path, {"mode": cfg.mode, "files": {k: {"setting": v["setting"], "sha256": v["sha256"]}
                                                  for k, v in hashes.items()}})
    return len(hashes)


def check_settings_inputs(cfg: DistantSettings, data_source: str) -> int:
    """`bioner validate`'s check: relative paths resolve against a local `data.source` (fetch copies its
    dictionaries/ and resources/), and are skipped for hub and sample (nothing to look at before fetch)."""
    local = data_source not in ("hub", "sample") and Path(data_source).expanduser().is_dir()
    return check_inputs(cfg.dictionaries, cfg.stop, Path(data_source).expanduser() if local else None,
                        skip_relative=not local)
