"""benchmarks/bench_corpus.py runs end to end on a small generated file and its figures are consistent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_corpus_small(tmp_path: Path) -> None:
    out = tmp_path / "corpus.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_corpus.py"), "--abstracts", "300",
                        "--split_abstracts", "50", "--max_load", "1000", "--json", str(out)],
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    res = json.loads(out.read_text())
    stage, small, parse, tree = res["rows"]
    assert stage["abstracts"] == 300 and small["abstracts"] == 30
    assert 0 < stage["skipped"] < 300 and stage["documents"] + stage["skipped"] == 300
    assert stage["sentences"] > 5 * stage["documents"]  # 6-12 sentences an abstract, plus the title
    assert parse["peak_rss_mib"] > 0 and tree["peak_rss_mib"] > 0
    ours = res["splitters"][0]
    assert ours["splitter"] == "syntok (ours)" and ours["sentences"] == ours["sentences_true"] > 0
    assert ours["exact_abstracts_%"] == 100  # "et al. in", "approx. 390", "i.v. at" never end a sentence
