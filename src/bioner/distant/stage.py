"""The `distant` pipeline stage: fetched data dir -> labelled data dir (same Hub layout) + quality metrics.

`keep` copies the five files byte for byte (the seed's labels, so its configurations reproduce exactly).
`relabel` recomputes `decoded_tags_pseudo_final` of the silver corpus from the dictionaries, and with
`gold_o` that of the BC5CDR files on their gold-O tokens; the two test files are always copied unchanged (the
PubMed test is gold). Every input is checked before anything is written; the output directory is built
beside the target and swapped in whole (`atomic.replace_dir`).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from ..data.corpus import CorpusError, load_corpus
from ..io.atomic import filling, replace_dir, temp_dir, write_json
from ..settings.labels import DATA_FILES, FIELD_FULL
from ..settings.sections import DistantSettings
from .labelling import label_corpus
from .lexicon import MatchRules, load_lexicon
from .matcher import Matcher

#: Files relabelled in `relabel` mode (the silver corpus) and, with gold_o, on gold-O tokens only.
SILVER = ("silver",)
GOLD_O = ("train", "validation", "test_bc5cdr")


def _span_counts(path: Path) -> tuple[Counter[str], Counter[str]]:
    """Spans and sentences covered per type in the 9-tag view of `path`."""
    spans: Counter[str] = Counter()
    covered: Counter[str] = Counter()
    for tags in load_corpus(path, FIELD_FULL).tags:
        found = Counter(t[2:] for t in tags if t.startswith("B-"))
        spans.update(found)
        covered.update(found.keys())
    return spans, covered


def matcher_from_settings(cfg: DistantSettings, gold_types: tuple[str, ...], data_dir: str | os.PathLike) -> Matcher:
    """Read and check the dictionaries and stop list of `cfg` (paths relative to `data_dir`) -> Matcher."""
    rules = MatchRules(cfg.max_tokens, cfg.case_sensitive_max_chars, tuple(cfg.priority))
    return Matcher(load_lexicon(cfg.dictionaries, rules, cfg.stop or None, gold_types, base_dir=data_dir))


def run_stage(cfg: DistantSettings, raw_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
              gold_types: tuple[str, ...] = (), metrics_path: str | os.PathLike | None = None,
              report_path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Write `out_dir` from `raw_dir` per `cfg`; return the flat metrics (also written to `metrics_path`).

    The full label-quality report of each relabelled file goes to `report_path` ({"mode": "keep"} in keep mode).
    """
    raw, out = Path(raw_dir), Path(out_dir)
    missing = [rel for rel in DATA_FILES.values() if not (raw / rel).is_file()]
    if missing:
        raise CorpusError(f"{raw}: missing {', '.join(missing)}. Fix: run `bioner fetch` (or `dvc repro fetch`) "
                          "first")
    matcher = None
    if cfg.mode == "relabel":
        matcher = matcher_from_settings(cfg, gold_types, raw)
    existed = out.exists()
    work = temp_dir(out)  # owner-stamped: a killed run's is removed by the next one
    reports: dict[str, Any] = {}
    try:
        tree = work / "tree"
        with filling(work, out, existed):  # a full disk names `out`, not the temp tree
            for key, rel in DATA_FILES.items():
                (tree / rel).parent.mkdir(parents=True, exist_ok=True)
                relabel = matcher is not None and (key in SILVER or (cfg.gold_o and key in GOLD_O))
                if relabel:
                    reports[key] = label_corpus(raw / rel, tree / rel, matcher, only_gold_o=key in GOLD_O)
                else:
                    shutil.copyfile(raw / rel, tree / rel)
        spans, covered = _span_counts(tree / DATA_FILES["silver"])
        replace_dir(tree, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    types = list(cfg.dictionaries) if matcher is None else list(matcher.lexicon.priority)
    metrics: dict[str, Any] = {"relabelled": int(matcher is not None)}
    for t in types:
        metrics[f"silver_spans_{t}"] = spans[t]
        metrics[f"silver_sentences_{t}"] = covered[t]
        if matcher is not None:
            r = reports["silver"]["types"][t]
            metrics[f"names_loaded_{t}"] = r["names_loaded"]
            metrics[f"names_dropped_{t}"] = sum(r["names_dropped"].values())
            metrics[f"names_never_matched_{t}"] = r["names_never_matched"]
    if report_path is not None:
        write_json(report_path, {"mode": cfg.mode, "files": reports})
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    return metrics
