"""benchmarks/bench_dictionaries.py runs end to end on small source files written here (not timed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_distant_sources import CUSTOM_HEADER, CUSTOM_ROWS, ICTV_ROWS, _taxdump_dir, _taxdump_tgz, _tsv, _xlsx

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_dictionaries_on_small_sources(tmp_path: Path) -> None:
    res = tmp_path / "resources"
    for sub in ("hgnc", "ictv", "ncbi_taxonomy"):
        (res / sub).mkdir(parents=True)
    _tsv(res / "hgnc" / "hgnc_entries.tsv", CUSTOM_HEADER, CUSTOM_ROWS)
    _xlsx(res / "ictv" / "VMR_MSL40.v1.20250307.xlsx", ICTV_ROWS)
    _taxdump_tgz(_taxdump_dir(tmp_path / "dump"), res / "ncbi_taxonomy" / "taxdump_viruses.tar.gz")
    out = tmp_path / "bench.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "BIONER_DICT_RESOURCES": str(res),
           "PYTHONPATH": str(ROOT / "src")}
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_dictionaries.py"), "--max_load", "1000",
                        "--rows", "baseline,read_hgnc,read_taxdump,build_study", "--json", str(out)], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    rows = {r["row"]: r for r in json.loads(out.read_text())["rows"]}
    assert rows["read HGNC table"]["pairs"] == 9  # the protein-coding approved rows' names
    assert rows["read NCBI taxdump (tar.gz)"]["pairs"] == 5  # Viruses subtree, default name classes
    study = rows["build the study's Virus + Gene + matcher"]
    assert study["names_in"] > study["names_kept"] > 0 and study["peak_rss_mib"] > 0
    assert "| read HGNC table | 9 |" in p.stdout
