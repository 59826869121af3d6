"""Silver subsets for the silver:gold ratio study (docs/design.md s.3).

Ratio r keeps r x |BC5CDR train| silver sentences. One permutation of the silver corpus, seeded by
`silver.subset_seed` (independent of the training seed), is cut at each size, so subsets are nested
(1:1 inside 2:1 inside 4:1 inside full) and deterministic. Kept sentences stay in corpus order.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from collections import Counter
from pathlib import Path

from ..io.atomic import atomic_open, filling, replace_dir, temp_dir, write_json
from ..io.atomic_dirs import keep_modes
from ..settings.labels import DATA_FILES, FIELD_FULL, FIELD_GOLD, EntityTypes
from ..settings.sections import RATIOS
from ..settings.settings import SettingsError
from .corpus import Corpus, is_blank, load_corpus
from .silver_provenance import file_sha256, mismatch

log = logging.getLogger(__name__)


def subset_size(ratio: str, n_gold: int, n_silver: int) -> int:
    """Number of silver sentences for `ratio`; an error if the corpus is too small for it."""
    if ratio == "full":
        return n_silver
    want = int(ratio) * n_gold
    if want > n_silver:
        raise SettingsError(
            f"silver.ratio={ratio!r}: needs {want} silver sentences ({ratio} x {n_gold} gold) but the silver "
            f"corpus has {n_silver}; allowed here: "
            + ", ".join(r for r in RATIOS if r == "full" or int(r) * n_gold <= n_silver)
        )
    return want


def subset_indices(ratio: str, n_gold: int, n_silver: int, subset_seed: int) -> list[int]:
    """Sorted indices of the silver sentences kept at `ratio` (nested across ratios)."""
    k = subset_size(ratio, n_gold, n_silver)
    perm = list(range(n_silver))
    random.Random(subset_seed).shuffle(perm)
    return sorted(perm[:k])


def span_counts(tags: list[list[str]]) -> dict[str, int]:
    c: Counter[str] = Counter(t[2:] for seq in tags for t in seq if t.startswith("B-"))
    return dict(sorted(c.items()))


def write_subsets(raw_dir: str | Path, out_dir: str | Path, subset_seed: int, types: EntityTypes) -> dict:
    """Write out_dir/silver_{1,2,4,full}.jsonl (the ratios the corpus allows) and out_dir/stats.json; the gold
    and silver corpora are checked against the run's `types` (Settings.entity_types) in their views.

    The set is built in a temp directory and replaces `out_dir` whole: a failure leaves the old set intact.
    stats.json records each file's sha256 and the silver corpus's (`load_silver` checks them)."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    space = "the run's types: sources.gold"
    gold = load_corpus(raw_dir / DATA_FILES["train"], FIELD_GOLD, types.scheme("gold").label2id, space=space)
    silver_path = raw_dir / DATA_FILES["silver"]
    silver = load_corpus(silver_path, FIELD_FULL, types.scheme("gold+silver").label2id,
                         space=space + " + sources.silver")
    # the raw lines are written back unchanged (both label views kept), selected by the validated indices
    # split on "\n" only, as the loader does: str.splitlines() also splits inside JSON strings at U+2028/U+0085
    text = silver_path.read_text(encoding="utf-8-sig")
    lines = [ln.rstrip("\r") for ln in text.split("\n") if ln.strip()]
    stats: dict = {"gold_sentences": len(gold), "silver_sentences": len(silver), "subset_seed": subset_seed,
                   "source_sha256": file_sha256(silver_path), "subsets": {}}
    if len(lines) != len(silver):  # empty-token records were skipped by the loader: re-derive from valid ones
        lines = [ln for ln in lines if _nonempty(ln)]
    existed = out_dir.exists()
    work = temp_dir(out_dir)  # owner-stamped: a killed run's is removed by the next one
    try:
        tree = work / "tree"
        with filling(work, out_dir, existed):  # a full disk names `out_dir`, not the temp tree
            tree.mkdir()
            for ratio in RATIOS:
                try:
                    idx = subset_indices(ratio, len(gold), len(silver), subset_seed)
                except SettingsError:
                    continue
                subset = tree / f"silver_{ratio}.jsonl"
                with atomic_open(subset) as fh:  # fsync'd before the set is renamed into place
                    for i in idx:
                        fh.write(lines[i] + "\n")
                stats["subsets"][ratio] = {
                    "sentences": len(idx),
                    "tokens": sum(len(silver.tokens[i]) for i in idx),
                    "spans": span_counts([silver.tags[i] for i in idx]),
                    "ratio_actual": round(len(idx) / len(gold), 3),
                    "sha256": file_sha256(subset),
                }
            write_json(tree / "stats.json", stats)
            keep_modes(out_dir, tree)
        replace_dir(tree, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return stats


def _nonempty(line: str) -> bool:
    """The loader keeps the record (it has a token with a visible character)."""
    return not all(is_blank(t) for t in json.loads(line).get("tokens") or [])


def load_silver(settings_ratio: str, silver_dir: str | Path | None, raw_dir: str | Path, n_gold: int,
                subset_seed: int, label2id: dict[str, int], space: str = "") -> Corpus:
    """The silver subset for training, in the gold+silver view checked against the run's `label2id`: from the
    silver stage's file if present and its provenance matches (bioner.data.silver_provenance), else computed in
    memory."""
    if silver_dir is not None and (Path(silver_dir) / f"silver_{settings_ratio}.jsonl").is_file():
        why = mismatch(Path(silver_dir), settings_ratio, subset_seed, Path(raw_dir))
        if why is None:
            return load_corpus(Path(silver_dir) / f"silver_{settings_ratio}.jsonl", FIELD_FULL, label2id,
                               space=space)
        log.warning("silver subset %s in %s not used (%s): computing it from %s", settings_ratio, silver_dir,
                    why, raw_dir)
    full = load_corpus(Path(raw_dir) / DATA_FILES["silver"], FIELD_FULL, label2id, space=space)
    idx = subset_indices(settings_ratio, n_gold, len(full), subset_seed)
    return Corpus(path=full.path, field=full.field, tokens=[full.tokens[i] for i in idx],
                  tags=[full.tags[i] for i in idx], repaired=full.repaired)
