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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data.corpus import CorpusError, load_corpus
from ..io.atomic import filling, replace_dir, temp_dir, write_json
from ..settings.labels import DATA_FILES, FIELD_FULL, CheckpointTypes, TestSet
from ..settings.sections import DistantSettings
from .errors import DistantError
from .filters import NameFilters
from .inputs import content_hashes, hash_metrics
from .labelling import label_corpus, score_labelling
from .lexicon import MatchRules, load_lexicon
from .matcher import Matcher
from .merge import resolve
from .outputs import write_dictionaries
from .silver_union import gold_sentence_keys, join_silver

#: Files relabelled in `relabel` mode (the silver corpus) and, with gold_o, on gold-O tokens only.
SILVER = ("silver",)
GOLD_O = ("train", "validation", "test_bc5cdr")
#: Folder of the labelled data dir holding each type's merged dictionary (`<Type>.tsv`), relabel mode only.
DICTIONARIES_DIR = "dictionaries"


def _span_counts(path: Path) -> tuple[Counter[str], Counter[str]]:
    """Spans and sentences covered per type in the 9-tag view of `path`."""
    spans: Counter[str] = Counter()
    covered: Counter[str] = Counter()
    for tags in load_corpus(path, FIELD_FULL).tags:
        found = Counter(t[2:] for t in tags if t.startswith("B-"))
        spans.update(found)
        covered.update(found.keys())
    return spans, covered


def filters_from_settings(cfg: DistantSettings) -> NameFilters:
    """The name filters of `cfg` (bioner.distant.filters)."""
    return NameFilters(cfg.min_chars, cfg.drop_numeric, cfg.common_word_zipf, cfg.plural_variants,
                       cfg.hyphen_variants)


def matcher_from_settings(cfg: DistantSettings, gold_types: tuple[str, ...], data_dir: str | os.PathLike) -> Matcher:
    """Build and check the dictionaries and stop list of `cfg` (paths relative to `data_dir`) -> Matcher."""
    rules = MatchRules(cfg.max_tokens, cfg.case_sensitive_max_chars, tuple(cfg.priority), cfg.case_sensitive_word_zipf)
    return Matcher(load_lexicon(cfg.dictionaries, rules, cfg.stop or None, gold_types, base_dir=data_dir,
                                filters=filters_from_settings(cfg), clash=cfg.clash))


def dictionary_scores(matcher: Matcher, test_sets: Mapping[str, TestSet], raw: Path,
                      gold_types: tuple[str, ...]) -> dict[str, float]:
    """F1 of the dictionary labelling alone on each test set that annotates a dictionary type (on those types):
    `<name>_dict_f1` and `<name>_dict_f1_<Type>`, the baseline a model trained on its silver should beat."""
    dict_types = matcher.lexicon.priority
    run = CheckpointTypes(dict_types, gold_types, (*gold_types, *dict_types))
    out: dict[str, float] = {}
    for name, ts in test_sets.items():
        path = resolve(ts.path, raw)
        tags = load_corpus(path, ts.field).tags
        if ts.lacks_its_types(tags):
            raise DistantError(f"test set {name}: {path} has no gold span of {', '.join(ts.types)} in {ts.field!r} "
                               f"(view {ts.view}): nothing to score. Fix: its view or types in evaluate.test_sets")
        types = tuple(t for t in ts.annotated_types(tags, run) if t in dict_types)
        if not types:
            continue
        res = score_labelling(path, matcher, types, gold_field=ts.field)
        out[f"{name}_dict_f1"] = round(float(res["micro"]["f1"]), 4)
        out.update((f"{name}_dict_f1_{t}", round(float(r["f1"]), 4)) for t, r in res["per_entity"].items())
    return out


def _silver_inputs(raw: Path, silver_files: Sequence[str], corpus: Path | None) -> tuple[list[tuple[str, Path]], bool]:
    """The silver files as (name, path) and whether they are joined (several, another file, or the corpus's)."""
    silver_files = tuple(silver_files) or (DATA_FILES["silver"],)
    named = [(f, resolve(f, raw)) for f in silver_files]
    if corpus is not None:
        named.append((f"corpus/{Path(corpus).name}", Path(corpus)))
    missing = [rel for rel in DATA_FILES.values() if not (raw / rel).is_file()]
    missing += [name for name, path in named if not path.is_file()]
    if missing:
        raise CorpusError(f"{raw}: missing {', '.join(missing)}. Fix: run `bioner fetch` (or `dvc repro fetch`) "
                          "first")
    return named, silver_files != (DATA_FILES["silver"],) or corpus is not None


def _write_tree(cfg: DistantSettings, raw: Path, work: Path, matcher: Matcher | None,
                named: list[tuple[str, Path]] | None, test_sets: Mapping[str, TestSet]
                ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Fill `work`/tree: each data file copied or relabelled (the silver one joined first when `named`);
    return the per-file reports and the join's counts."""
    tree, reports, union = work / "tree", {}, None
    for key, rel in DATA_FILES.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        src = raw / rel
        if key in SILVER and named is not None:
            src = work / "silver_union.jsonl"
            exclude = gold_sentence_keys(resolve(t.path, raw) for t in test_sets.values())
            union = join_silver(named, src, relabel=matcher is not None, exclude=exclude)
        if matcher is not None and (key in SILVER or (cfg.gold_o and key in GOLD_O)):
            reports[key] = label_corpus(src, tree / rel, matcher, only_gold_o=key in GOLD_O)
            reports[key]["corpus"] = reports[key]["output"] = rel  # not temp paths: the report is committed
        else:
            shutil.copyfile(src, tree / rel)
    if matcher is not None:
        write_dictionaries(matcher.lexicon, tree / DICTIONARIES_DIR)
    return reports, union


def _metrics(cfg: DistantSettings, tree_silver: Path, matcher: Matcher | None, reports: dict[str, Any],
             union: dict[str, Any] | None) -> dict[str, Any]:
    """The flat metrics: silver spans per type, dictionary counts, the silver files' mix."""
    spans, covered = _span_counts(tree_silver)
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
    if union is not None:
        metrics["silver_duplicates_removed"] = union["duplicates_removed"]
        metrics["silver_test_overlap_removed"] = union["test_overlap_removed"]
        for f, n in union["files"].items():
            metrics[f"silver_from_{Path(f).stem}"] = n["kept"]
    return metrics


def run_stage(cfg: DistantSettings, raw_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
              gold_types: tuple[str, ...] = (), metrics_path: str | os.PathLike | None = None,
              report_path: str | os.PathLike | None = None, silver_files: Sequence[str] = (),
              test_sets: Mapping[str, TestSet] | None = None, corpus: Path | None = None) -> dict[str, Any]:
    """Write `out_dir` from `raw_dir` per `cfg`; return the flat metrics (also written to `metrics_path`).

    `silver_files` (data.silver; default the Hub layout's one file, used as is) are joined into the one silver
    corpus by `join_silver` when they are several or another file. `test_sets`: never silver, and scored by the
    dictionaries in relabel mode. `corpus`: the corpus stage's text (bioner.scrape), joined as one more silver
    file. The full label-quality report of each relabelled file goes to `report_path`
    ({"mode": "keep"} in keep mode).
    """
    raw, out = Path(raw_dir), Path(out_dir)
    named, joined = _silver_inputs(raw, silver_files, corpus)
    test_sets = dict(test_sets or {})
    matcher = None
    hashes: dict[str, Any] = {}
    if cfg.mode == "relabel":
        hashes = content_hashes(cfg.dictionaries, cfg.stop, raw)  # what the labels are made from
        matcher = matcher_from_settings(cfg, gold_types, raw)
    existed = out.exists()
    work = temp_dir(out)  # owner-stamped: a killed run's is removed by the next one
    try:
        with filling(work, out, existed):  # a full disk names `out`, not the temp tree
            reports, union = _write_tree(cfg, raw, work, matcher, named if joined else None, test_sets)
        metrics = _metrics(cfg, work / "tree" / DATA_FILES["silver"], matcher, reports, union)
        if matcher is not None:  # before the swap: a bad test set leaves the previous output as it was
            metrics.update(dictionary_scores(matcher, test_sets, raw, gold_types))
        replace_dir(work / "tree", out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    metrics.update(hash_metrics(hashes))
    if report_path is not None:
        report: dict[str, Any] = {"mode": cfg.mode, "files": reports}
        if matcher is not None:
            report["dictionaries"] = matcher.lexicon.sources_report | {"inputs": hashes}
        if union is not None:
            report["silver_union"] = union
        write_json(report_path, report)
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    return metrics
