"""Provenance of a silver subset set: each subset file's hash, the subset seed and the hash of the silver
corpus it was cut from, recorded in stats.json. A set whose files do not all match is never used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..io.hashing import file_sha256
from ..settings.labels import DATA_FILES


def mismatch(silver_dir: Path, ratio: str, subset_seed: int, raw_dir: Path) -> str | None:
    """Why `silver_dir`'s subset for `ratio` is not the one the settings and `raw_dir` give, or None."""
    stats_path, subset = silver_dir / "stats.json", silver_dir / f"silver_{ratio}.jsonl"
    try:
        stats: dict[str, Any] = json.loads(stats_path.read_text(encoding="utf-8"))
        recorded = stats["subsets"][ratio]
    except (OSError, ValueError, KeyError, TypeError):
        return f"{stats_path} is missing, unreadable or has no entry for ratio {ratio}"
    if stats.get("subset_seed") != subset_seed:
        return f"made with subset_seed {stats.get('subset_seed')}, the settings say {subset_seed}"
    if recorded.get("sha256") != file_sha256(subset):
        return f"{subset} is not the file stats.json records (a mixed or edited set)"
    source = raw_dir / DATA_FILES["silver"]
    if stats.get("source_sha256") != file_sha256(source):
        return f"cut from another silver corpus than {source}"
    return None
