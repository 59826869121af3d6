"""Building dictionaries from the official sources (bioner.distant.sources / merge): time and peak memory.

Each row runs in a child process (its own peak RSS) on the shipped files of $BIONER_REAL_DATA/resources
(default ../shared/data/resources; $BIONER_DICT_RESOURCES: another folder of that layout), read in place:
- read: the source reader alone (every (name, id) pair into a list): HGNC table, ICTV VMR workbook, NCBI
  taxdump (253k taxa);
- build: the type's merged dictionary (`build_dictionaries`: read, filters at their defaults, merge with
  provenance) and the matcher over it (`load_lexicon` + `Matcher`), for each source alone and for the study's
  Virus + Gene configuration (docs/distant.md);
- baseline: Python's start-up and the imports alone.

    OMP_NUM_THREADS=1 python benchmarks/bench_dictionaries.py [--json scratch/bench/dictionaries.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,I001

#: the shipped sources; BIONER_DICT_RESOURCES points elsewhere (the same layout; the tests' small fixtures)
RES = Path(os.environ.get("BIONER_DICT_RESOURCES", common.REAL_DATA / "resources"))
HGNC = {"format": "hgnc", "path": str(RES / "hgnc" / "hgnc_entries.tsv")}
ICTV = {"format": "ictv_vmr", "path": str(RES / "ictv" / "VMR_MSL40.v1.20250307.xlsx")}
TAXDUMP = {"format": "ncbi_taxdump", "path": str(RES / "ncbi_taxonomy" / "taxdump_viruses.tar.gz")}
#: the study configuration of docs/distant.md (without the hand list, which lives in the data dir)
STUDY = {"Virus": [ICTV | {"common_word_zipf": 0}, TAXDUMP],
         "Gene": [HGNC | {"fields": ["symbol"], "common_word_zipf": 0},
                  HGNC | {"fields": ["alias", "previous"], "min_chars": 3},
                  HGNC | {"fields": ["name"], "common_word_zipf": 0}]}
ROWS: dict[str, tuple[str, Any]] = {
    "baseline": ("imports only", None),
    "read_hgnc": ("read HGNC table", HGNC),
    "read_ictv": ("read ICTV VMR workbook", ICTV),
    "read_taxdump": ("read NCBI taxdump (tar.gz)", TAXDUMP),
    "build_hgnc": ("build Gene from HGNC + matcher", {"Gene": HGNC}),
    "build_ictv": ("build Virus from ICTV + matcher", {"Virus": ICTV}),
    "build_taxdump": ("build Virus from taxdump + matcher", {"Virus": TAXDUMP}),
    "build_study": ("build the study's Virus + Gene + matcher", STUDY),
}


def child(row: str) -> dict[str, Any]:
    """Do one row's work in this process; return its counts and the in-process wall time."""
    from bioner.distant.lexicon import MatchRules, load_lexicon
    from bioner.distant.matcher import Matcher
    from bioner.distant.sources import read_source
    from bioner.settings.dictionaries import parse_source

    _, what = ROWS[row]
    t0, c0 = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {}
    if row.startswith("read_"):
        spec = parse_source(what, row)
        out["pairs"] = len(list(read_source(spec, Path(spec.path))))
    elif row.startswith("build_"):
        lex = load_lexicon(what, MatchRules(), None, ("Chemical", "Disease"))
        m = Matcher(lex)
        out["names_in"] = sum(s["names_read"] for t in lex.sources_report["types"].values() for s in t["sources"])
        out["names_kept"] = len(m.entries)
    out["work_s"] = round(time.perf_counter() - t0, 2)
    out["work_cpu_s"] = round(time.process_time() - c0, 2)  # CPU time: less distorted by a loaded machine
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default=",".join(ROWS), help="rows to run (default: all)")
    ap.add_argument("--max_load", type=float, default=1.5, help="wait for this 1-min load average first")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    from importlib.metadata import version

    load = common.wait_for_quiet(args.max_load)
    machine = {"cpu": common.cpu_model(), "logical_cores": os.cpu_count(), "python": platform.python_version(),
               "openpyxl": version("openpyxl"), "wordfreq": version("wordfreq"),
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "load_before": load}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for row in args.rows.split(","):
            log = Path(tmp) / f"{row}.log"
            r = common.peak_rss_of([sys.executable, __file__, "--child", row], log=log)
            if r["rc"] != 0:
                raise SystemExit(f"{row} failed:\n{log.read_text()[-3000:]}")
            rows.append({"row": ROWS[row][0], **json.loads(log.read_text().strip().splitlines()[-1]),
                         "wall_s": r["wall_s"], "peak_rss_mib": r["peak_rss_mib"], "load_after": common.loadavg()[0]})
    print(f"# machine: {machine}")
    print(common.table(rows, ["row", "pairs", "names_in", "names_kept", "work_s", "work_cpu_s", "wall_s",
                              "peak_rss_mib",
                              "load_after"]))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"machine": machine, "rows": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
