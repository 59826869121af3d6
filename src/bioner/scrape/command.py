"""`bioner corpus`: the corpus stage from the command line (settings from the params file, `corpus:`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_corpus(args: argparse.Namespace, settings: Any) -> None:
    """Build data/corpus/<name>.jsonl from `corpus.source`; print what was written and the counts."""
    from ..io.atomic import check_writable
    from .stage import corpus_file, run_stage

    cfg = settings.corpus
    check_writable(args.out, "dir")
    check_writable(args.metrics, "file")
    tests = [Path(args.data_dir) / t.path for t in settings.test_sets.values()]  # every gold test file
    m = run_stage(cfg, args.out, args.metrics, test_files=tests, cache_dir=args.cache_dir)
    if cfg.source == "none":
        print(f"corpus.source=none: nothing to build; {args.metrics} written")
        return
    print(f"corpus.source={cfg.source}: {m['sentences']} sentences ({m['tokens']} tokens) from {m['documents']} "
          f"documents -> {corpus_file(args.out, cfg)}; counts in {args.metrics}")
    skipped = {k: v for k, v in m.items() if k.startswith(("skipped_", "duplicates_", "test_overlap")) and v}
    if skipped:
        print("removed: " + ", ".join(f"{k} {v}" for k, v in skipped.items()))
