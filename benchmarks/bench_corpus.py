"""The corpus stage's PubMed XML path (bioner.scrape): throughput and peak memory on a generated baseline file.

Generates a synthetic gzip'd PubMed XML file of --abstracts records (default 30,000, the size of one annual
baseline file; seeded; ~9 sentences an abstract, structured abstracts, inline markup, non-ASCII text, and a few
retracted / no-abstract / non-English records so every skip path runs), then measures, each in its own child
process (peak RSS of that process alone):

- stage: `run_stage` end to end (stream the XML, skip, split sentences with syntok, `punct` tokens, dedup,
  write the JSONL): abstracts/s, sentences/s, tokens/s, peak RSS;
- stage at a tenth of the records: the same, to show memory does not grow with the file;
- parse only: `iter_articles` over the file (XML streaming alone: what the rest costs is the difference);
- whole-tree baseline: `xml.etree.ElementTree.parse` of the same file (what a non-streaming reader holds).
- splitters (when pysbd imports): syntok vs pysbd on the same abstracts, sentences/s and sentence counts.

    python benchmarks/bench_corpus.py [--abstracts 30000] [--json scratch/bench/corpus.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,I001

SRC = str(common.REPO / "src")
_VOCAB = ("the patients cells were treated with cisplatin and showed reduced expression of IL-6 in lung tissue "
         "after infection by SARS-CoV-2 virus we observed increased levels TNF-α receptor binding ACE2 mice "
         "dengue NS1 protein significantly compared controls mutation gene BRCA1 carriers cohort study risk "
         "treatment outcome response kinase inhibitor pathway signalling human serum μg/ml dose")
WORDS = _VOCAB.split()
ENDINGS = (".", " (p < 0.05).", ", e.g. in Vero E6 cells.", " in E. coli strains.", " (Fig. 2A).",
           " as reported by Smith et al. in 2001.", " given i.v. at 2.5 mg/kg.", " in approx. 390 pts. with fever.")


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 30))]
    return escape(" ".join(words).capitalize() + rng.choice(ENDINGS))


def record(rng: random.Random, pmid: int, truth: list[int]) -> str:
    """One PubmedArticle; the number of sentences of its abstract (if it has one) is appended to `truth`."""
    kind = rng.random()
    sents = [sentence(rng) for _ in range(rng.randint(6, 12))]
    if kind < 0.3:  # structured
        cut = len(sents) // 2
        abstract = (f'<Abstract><AbstractText Label="BACKGROUND">{" ".join(sents[:cut])}</AbstractText>'
                    f'<AbstractText Label="RESULTS">{" ".join(sents[cut:])}</AbstractText></Abstract>')
    elif kind < 0.32:  # no abstract
        abstract = ""
    else:
        abstract = f"<Abstract><AbstractText>{' '.join(sents)}</AbstractText></Abstract>"
    if abstract:
        truth.append(len(sents))
    retracted = "<PublicationType>Retracted Publication</PublicationType>" if rng.random() < 0.005 else ""
    lang = "fre" if rng.random() < 0.01 else "eng"
    title = sentence(rng).replace("cisplatin", "<i>cisplatin</i>")
    return (f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
            f'<Article PubModel="Print"><Journal><JournalIssue><PubDate><Year>{2000 + pmid % 25}</Year></PubDate>'
            f"</JournalIssue><Title>Journal {pmid % 500}</Title></Journal><ArticleTitle>{title}</ArticleTitle>"
            f"{abstract}<Language>{lang}</Language><PublicationTypeList><PublicationType>Journal Article"
            f"</PublicationType>{retracted}</PublicationTypeList></Article></MedlineCitation><PubmedData>"
            f"<PublicationStatus>ppublish</PublicationStatus></PubmedData></PubmedArticle>\n")


def generate(path: Path, n: int, truth: list[int], seed: int = 0) -> dict[str, Any]:
    """Write `n` records to `path`; `truth` gets the sentence count of each abstract, in file order."""
    rng = random.Random(seed)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n')
        for i in range(n):
            fh.write(record(rng, 10_000_000 + i, truth))
        fh.write("</PubmedArticleSet>\n")
    with gzip.open(path, "rb") as fh:
        raw = sum(len(chunk) for chunk in iter(lambda: fh.read(1 << 20), b""))
    return {"abstracts": n, "gz_mib": round(path.stat().st_size / 2**20, 1), "xml_mib": round(raw / 2**20, 1)}


CHILD = {
    "stage": """
import json, sys, time
from pathlib import Path
from bioner.scrape.stage import run_stage
from bioner.settings.sections import CorpusSettings
xml, out, gold = sys.argv[1:4]
t0, c0 = time.perf_counter(), time.process_time()
m = run_stage(CorpusSettings(source="pubmed_xml", path=xml), out, None, test_files=[Path(gold)])
m["seconds"], m["cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps(m))
""",
    "parse": """
import json, sys, time, gzip
from bioner.scrape.pubmed_xml import iter_articles
t0, c0 = time.perf_counter(), time.process_time()
with gzip.open(sys.argv[1], "rb") as fh:
    n = sum(1 for _ in iter_articles(fh, sys.argv[1]))
print(json.dumps({"records": n, "seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}))
""",
    "whole_tree": """
import json, sys, time, gzip
import xml.etree.ElementTree as ET
t0, c0 = time.perf_counter(), time.process_time()
with gzip.open(sys.argv[1], "rb") as fh:
    root = ET.parse(fh).getroot()
n = len(root.findall("PubmedArticle"))
print(json.dumps({"records": n, "seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}))
""",
}


def run_child(kind: str, *args: str) -> dict[str, Any]:
    """One measurement in its own process: its JSON answer plus its peak RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        env = {**os.environ, "PYTHONPATH": SRC}
        res = common.peak_rss_of([sys.executable, "-c", CHILD[kind], *args], env=env, log=Path(log.name))
        lines = Path(log.name).read_text().splitlines()
    if res["rc"] != 0:
        raise SystemExit(f"{kind} failed:\n" + "\n".join(lines[-20:]))
    return {**json.loads(lines[-1]), "peak_rss_mib": res["peak_rss_mib"]}


def splitters(xml: Path, truth: list[int], limit: int) -> list[dict[str, Any]]:
    """syntok (ours) vs pysbd on the first `limit` abstracts, same process, same texts: speed, and the share of
    abstracts split into exactly as many sentences as were generated (`truth`; the generated sentences end in
    "e.g. in Vero E6 cells.", "Smith et al. in 2001.", "approx. 390 pts. with fever." and the like)."""
    from bioner.scrape.pubmed_xml import read_articles
    from bioner.scrape.sentences import split_sentences

    texts = []
    for a in read_articles(xml):
        if a.abstract:
            texts.append(a.abstract)
        if len(texts) >= limit:
            break
    rows = []
    def row(name: str, split: Any) -> dict[str, Any]:
        t0, c0 = time.perf_counter(), time.process_time()
        counts = [len(split(t)) for t in texts]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        exact = sum(c == t for c, t in zip(counts, truth, strict=False))
        return {"splitter": name, "abstracts": len(texts), "sentences": sum(counts),
                "sentences_true": sum(truth[:len(texts)]), "exact_abstracts_%": 100 * exact / len(texts),
                "sentences_per_s": sum(counts) / wall, "sentences_per_cpu_s": sum(counts) / cpu}

    rows.append(row("syntok (ours)", split_sentences))
    try:
        import pysbd
    except ImportError:
        return rows
    rows.append(row("pysbd", pysbd.Segmenter(language="en", clean=False).segment))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--abstracts", type=int, default=30_000, help="records in the generated file")
    ap.add_argument("--split_abstracts", type=int, default=2000, help="abstracts of the splitter comparison")
    ap.add_argument("--max_load", type=float, default=1.5, help="wait until the load average is below this")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    from importlib.metadata import version

    payload: dict[str, Any] = {"machine": {"cpu": common.cpu_model(), "logical_cores": os.cpu_count(),
                                           "python": platform.python_version(),
                                           "syntok": version("syntok")}, "rows": []}
    print("# machine: " + ", ".join(f"{k}={v}" for k, v in payload["machine"].items()))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        gold = t / "test.jsonl"
        gold.write_text(json.dumps({"tokens": ["no", "overlap"]}) + "\n")
        small_n = max(1, args.abstracts // 10)
        files: dict[int, Path] = {}
        truth: dict[int, list[int]] = {}
        for n in (args.abstracts, small_n):
            files[n], truth[n] = t / f"pubmed_{n}.xml.gz", []
            info = generate(files[n], n, truth[n])
            print(f"# generated {files[n].name}: {info}")
            payload.setdefault("files", []).append(info)
        for label, kind, n in (("stage", "stage", args.abstracts), ("stage, 1/10 of the records", "stage", small_n),
                               ("parse only", "parse", args.abstracts),
                               ("whole-tree ElementTree.parse (baseline)", "whole_tree", args.abstracts)):
            load = common.wait_for_quiet(args.max_load, timeout_s=300, interval_s=20)
            args_ = (str(files[n]), str(t / f"out_{n}"), str(gold)) if kind == "stage" else (str(files[n]),)
            r = run_child(kind, *args_)
            secs = r["seconds"]
            cpu = r["cpu_s"]
            row = {"row": label, "abstracts": n, "seconds": round(secs, 2), "cpu_s": round(cpu, 2),
                   "abstracts_per_s": n / secs, "abstracts_per_cpu_s": n / cpu, "peak_rss_mib": r["peak_rss_mib"],
                   "load": load[0]}
            if kind == "stage":
                row.update(sentences=r["sentences"], sentences_per_s=r["sentences"] / secs,
                           sentences_per_cpu_s=r["sentences"] / cpu, tokens_per_s=r["tokens"] / secs,
                           documents=r["documents"],
                           skipped=r["skipped_no_abstract"] + r["skipped_retracted"] + r["skipped_language"])
            payload["rows"].append(row)
            print(f"# {label}: {json.dumps(row)}", flush=True)
        payload["splitters"] = splitters(files[args.abstracts], truth[args.abstracts], args.split_abstracts)
    print("\n## the PubMed XML path\n")
    print(common.table(payload["rows"], ["row", "abstracts", "seconds", "cpu_s", "abstracts_per_s",
                                         "abstracts_per_cpu_s", "sentences_per_s", "sentences_per_cpu_s",
                                         "peak_rss_mib", "load"]))
    print("\n## sentence splitters (same abstracts, one process)\n")
    print(common.table(payload["splitters"], ["splitter", "abstracts", "sentences", "sentences_true",
                                              "exact_abstracts_%", "sentences_per_s", "sentences_per_cpu_s"]))
    common.save_json(args.json, payload)


if __name__ == "__main__":
    main()
