"""Distant-supervision labelling (bioner.distant) on the real data: agreement, quality, speed and memory.

Rows (real corpus from $BIONER_REAL_DATA, default ../shared/data, read in place; `--rows` picks):
- agreement: relabel the silver corpus from dictionaries/{genes,viruses}.txt with the README's rules (the
  defaults: longest first, <= 6 tokens, names of <= 4 characters case-sensitive, Virus before Gene) and compare
  span by span with the shipped `decoded_tags_pseudo_final`; every differing span is printed;
- score: strict span P/R/F1 of the dictionary labelling on the gold pubmed_test.jsonl (Gene, Virus), with and
  without a stop list of the README's ambiguous acronyms (ER, RT, CT, PD);
- speed: matching every silver sentence with the token trie vs a plain per-name scan (one substring search
  per name over the whole corpus text, then the same longest-first resolution) on the same tokens in the same
  run; both must give identical spans. If `ahocorasick` (pyahocorasick) imports, its bare scan of the same text
  (no token-boundary, case or overlap handling: a lower bound for an Aho-Corasick matcher) is timed too;
- memory: peak RSS and wall time of a child process that reads the dictionaries, builds the matcher and
  relabels the silver corpus to a temp file: corpus only (no matching), the real ~10k names, and a generated
  dictionary of --names names (the real gene names plus generated symbols and multi-word names).

    OMP_NUM_THREADS=1 python benchmarks/bench_distant.py [--json scratch/bench/distant.json]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,I001

from seqeval.metrics.sequence_labeling import get_entities  # noqa: E402

from bioner.data.corpus import load_corpus  # noqa: E402
from bioner.distant.labelling import relabel, score_labelling  # noqa: E402
from bioner.distant.lexicon import MatchRules, fold, load_lexicon  # noqa: E402
from bioner.distant.matcher import Matcher  # noqa: E402
from bioner.settings.labels import DATA_FILES, FIELD_FULL  # noqa: E402

DICTS = {"Virus": "dictionaries/viruses.txt", "Gene": "dictionaries/genes.txt"}
AMBIGUOUS = ["ER", "RT", "CT", "PD"]


def _spans(tags: list[str]) -> set[tuple[str, int, int]]:
    return set(get_entities(tags))


def agreement(data: Path, rules: MatchRules) -> dict[str, Any]:
    """relabel() the silver corpus into a temp file (end to end, timed) and compare it with the shipped labels."""
    silver = load_corpus(data / DATA_FILES["silver"], FIELD_FULL)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = relabel(data / DATA_FILES["silver"], Path(tmp) / "silver.jsonl", DICTS, rules=rules, base_dir=data)
        wall = time.perf_counter() - t0
        ours_all = load_corpus(Path(tmp) / "silver.jsonl", FIELD_FULL).tags
    agree: Counter[str] = Counter()
    only_shipped: Counter[str] = Counter()
    only_ours: Counter[str] = Counter()
    diffs = []
    for s, (toks, shipped, ours) in enumerate(zip(silver.tokens, silver.tags, ours_all, strict=True)):
        a, b = _spans(shipped), _spans(ours)
        for t, *_ in a & b:
            agree[t] += 1
        for side, spans, counter in (("shipped", a - b, only_shipped), ("ours", b - a, only_ours)):
            for t, i, j in spans:
                counter[t] += 1
                diffs.append({"sentence": s, "side": side, "type": t, "text": " ".join(toks[i:j + 1])})
    rows = []
    for t in report["types"]:
        n_s, n_o = agree[t] + only_shipped[t], agree[t] + only_ours[t]
        rows.append({"type": t, "shipped_spans": n_s, "relabelled_spans": n_o, "identical": agree[t],
                     "only_shipped": only_shipped[t], "only_relabelled": only_ours[t],
                     "agreement_%": f"{100 * agree[t] / max(1, n_s + n_o - agree[t]):.3f}"})
    return {"sentences": len(silver), "relabel_wall_s": round(wall, 2), "rows": rows, "differences": diffs,
            "report": report}


def quality_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": t, "names read": r["names_read"], "loaded": r["names_loaded"],
             "dropped": ", ".join(f"{k}: {v}" for k, v in r["names_dropped"].items()),
             "spans": r["spans_matched"], "sentences covered": r["sentences_covered"],
             "never matched": r["names_never_matched"],
             "top 10 matches": ", ".join(f"{m['name']} {m['spans']}" for m in r["top_matches"][:10])}
            for t, r in report["types"].items()]


def scores(data: Path, rules: MatchRules) -> list[dict[str, Any]]:
    """Whole file (as `bioner evaluate` scores models) and each type on its own source's sentences only.

    pubmed_test.jsonl is gold only for each sentence's own type (README): records 1-70 (BC2GM) for Gene,
    71-100 (species corpora) for Virus; a gene in a virus sentence is O there, so on the whole file a correct
    gene match in a virus sentence counts as a false positive.
    """
    out = []
    gold = data / DATA_FILES["test_pubmed"]
    lines = [ln for ln in gold.read_text(encoding="utf-8").split("\n") if ln.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        parts = {"Gene": Path(tmp) / "gene.jsonl", "Virus": Path(tmp) / "virus.jsonl"}
        parts["Gene"].write_text("\n".join(lines[:70]) + "\n", encoding="utf-8")
        parts["Virus"].write_text("\n".join(lines[70:]) + "\n", encoding="utf-8")
        for label, stop in (("README rules", None), (f"+ stop list {','.join(AMBIGUOUS)}", AMBIGUOUS)):
            m = Matcher(load_lexicon(DICTS, rules, stop=stop, base_dir=data))
            sc = score_labelling(gold, m, ("Gene", "Virus"))
            rows = [("whole file", t, r) for t, r in [*sc["per_entity"].items(), ("micro", sc["micro"])]]
            for t, path in parts.items():
                rows.append((f"own-source sentences ({len(lines[:70]) if t == 'Gene' else len(lines[70:])})", t,
                             score_labelling(path, m, (t,))["per_entity"][t]))
            for scope, t, row in rows:
                out.append({"dictionaries": label, "scored on": scope, "type": t, "P": f"{row['precision']:.3f}",
                            "R": f"{row['recall']:.3f}", "F1": f"{row['f1']:.3f}", "gold spans": row["support"]})
    return out


def per_name_scan(matcher: Matcher, sentences: list[list[str]]) -> list[list[tuple[int, int, int]]]:
    """Baseline: for each name, every occurrence in the corpus text by substring search; then longest first.

    The corpus is one string of space-separated tokens (sentences on their own lines, a space at both ends),
    once as written and once case-folded token by token; a name is found as ' tok1 tok2 ... ' in the text of
    its case rule. Occurrences become (sentence, start, end) via the token offsets, then each sentence keeps
    the longest match at each free position, left to right, ties to the earlier (higher-priority) entry.
    """
    def build(toks_of):
        parts, starts, pos = [], [], 0
        for s in sentences:
            line = " " + " ".join(toks_of(s)) + " \n"
            p = pos + 1
            for t in toks_of(s):
                starts.append(p)
                p += len(t) + 1
            parts.append(line)
            pos += len(line)
        return "".join(parts), starts

    exact, exact_starts = build(lambda s: s)
    folded, folded_starts = build(lambda s: [fold(t) for t in s])
    sent_of, first_tok = [], []
    for k, s in enumerate(sentences):
        first_tok.append(len(sent_of))
        sent_of.extend([k] * len(s))
    cands: list[list[tuple[int, int, int]]] = [[] for _ in sentences]
    for idx, e in enumerate(matcher.entries):
        text, starts = (exact, exact_starts) if e.case_sensitive else (folded, folded_starts)
        needle = " " + " ".join(e.name.tokens if e.case_sensitive else e.key) + " "
        p = text.find(needle)
        while p != -1:
            g = bisect.bisect_left(starts, p + 1)  # global index of the first token of the hit
            k = sent_of[g]
            i = g - first_tok[k]
            cands[k].append((i, i + len(e.key), idx))
            p = text.find(needle, p + 1)
    out = []
    for c in cands:
        best: dict[int, tuple[int, int, int]] = {}
        for i, j, idx in c:
            b = best.get(i)
            if b is None or j > b[1] or (j == b[1] and idx < b[2]):
                best[i] = (i, j, idx)
        spans, resume = [], 0
        for i in sorted(best):
            if i >= resume:
                spans.append(best[i])
                resume = best[i][1]
        out.append(spans)
    return out


def speed(data: Path, rules: MatchRules, repeat: int, max_load: float) -> dict[str, Any]:
    sentences = load_corpus(data / DATA_FILES["silver"], FIELD_FULL).tokens
    n_tok = sum(map(len, sentences))
    load0 = common.wait_for_quiet(max_load)
    t0 = time.perf_counter()
    matcher = Matcher(load_lexicon(DICTS, rules, base_dir=data))
    build_s = time.perf_counter() - t0
    trie_s = trie_cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        ours = [matcher.find(s) for s in sentences]
        trie_s, trie_cpu = min(trie_s, time.perf_counter() - t0), min(trie_cpu, time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    base = per_name_scan(matcher, sentences)
    scan_s, scan_cpu = time.perf_counter() - t0, time.process_time() - c0
    res = {"sentences": len(sentences), "tokens": n_tok, "names": len(matcher.entries),
           "trie_build_s": round(build_s, 3), "trie_match_s": round(trie_s, 3),
           "trie_match_cpu_s": round(trie_cpu, 3), "trie_tokens_per_s": round(n_tok / trie_s),
           "per_name_scan_s": round(scan_s, 2), "per_name_scan_cpu_s": round(scan_cpu, 2),
           "speedup": round(scan_s / trie_s, 1), "spans": sum(map(len, ours)),
           "sentences_differing": sum(a != b for a, b in zip(ours, base, strict=True)),
           "load_before": load0, "load_after": common.loadavg()}
    try:
        import ahocorasick
    except ImportError:
        return res
    auto = ahocorasick.Automaton()
    t0 = time.perf_counter()
    for idx, e in enumerate(matcher.entries):
        auto.add_word(" " + " ".join(e.key) + " ", idx)
    auto.make_automaton()
    res["ahocorasick_build_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    text = "".join(" " + " ".join(fold(t) for t in s) + " \n" for s in sentences)
    res["ahocorasick_text_build_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    hits = sum(1 for _ in auto.iter(text))
    res["ahocorasick_bare_scan_s"] = round(time.perf_counter() - t0, 3)
    res["ahocorasick_raw_hits"] = hits
    return res


def generate_names(real: list[str], n: int, avoid: set[str], seed: int = 0) -> list[str]:
    """`real` names first, then generated gene-like symbols and multi-word names until n distinct ones.

    Names in `avoid` (the other type's names: a name may belong to one type) are never generated."""
    rng = random.Random(seed)
    up, low = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(low) for _ in range(rng.randint(4, 10))) for _ in range(5000)]
    tails = ["protein", "kinase", "receptor", "factor", "alpha", "beta", "1", "2", "3", "A", "B", "II"]
    seen = dict.fromkeys(real)
    while len(seen) < n:
        r = rng.random()
        sym = "".join(rng.choice(up) for _ in range(rng.randint(2, 5))) + str(rng.randint(1, 99))
        if r < 0.4:
            name = sym
        elif r < 0.6:
            name = f"{sym[:3]}-{rng.randint(1, 999)}"
        else:
            name = " ".join([rng.choice(words) for _ in range(rng.randint(1, 3))] + [rng.choice(tails)])
        if name not in avoid:
            seen.setdefault(name)
    return list(seen)


def child(args: argparse.Namespace) -> None:
    """One memory row, in its own process: read the dictionaries, build the matcher, relabel the corpus."""
    data = Path(args.data)
    src = data / DATA_FILES["silver"]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.child == "corpus_only":
            n = len(load_corpus(src, FIELD_FULL))
            info: dict[str, Any] = {"sentences": n, "names": 0}
        else:
            dicts = {"Virus": str(data / DICTS["Virus"]), "Gene": args.child}
            rep = relabel(src, Path(tmp) / "out.jsonl", dicts, base_dir=data)
            info = {"sentences": rep["sentences"],
                    "names": sum(t["names_loaded"] for t in rep["types"].values()),
                    "spans": sum(t["spans_matched"] for t in rep["types"].values())}
    info["wall_in_process_s"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(info))


def memory(data: Path, n_names: int, max_load: float) -> list[dict[str, Any]]:
    def names(key: str) -> list[str]:
        return [ln for ln in (data / DICTS[key]).read_text(encoding="utf-8").split("\n") if ln.strip()]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "genes_big.txt"
        big.write_text("\n".join(generate_names(names("Gene"), n_names, set(names("Virus")))) + "\n", encoding="utf-8")
        for label, arg in (("corpus only (load, no matching)", "corpus_only"),
                           ("real dictionaries", str(data / DICTS["Gene"])),
                           (f"generated {n_names:,}-name Gene dictionary", str(big))):
            load0 = common.wait_for_quiet(max_load)
            log = Path(tmp) / "child.log"
            r = common.peak_rss_of([sys.executable, __file__, "--data", str(data), "--child", arg], log=log)
            out = log.read_text(encoding="utf-8").strip().splitlines()
            if r["rc"] != 0:
                raise SystemExit(f"memory row {label!r} failed:\n" + "\n".join(out[-20:]))
            rows.append({"row": label, **json.loads(out[-1]), **r, "load_before": load0})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(common.REAL_DATA))
    ap.add_argument("--rows", default="agreement,score,speed,memory")
    ap.add_argument("--names", type=int, default=1_000_000, help="size of the generated dictionary (memory row)")
    ap.add_argument("--repeat", type=int, default=3, help="trie timing: best of N")
    ap.add_argument("--max_load", type=float, default=1.5)
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    data, rows, rules = Path(args.data), args.rows.split(","), MatchRules()
    m = {"cpu": common.cpu_model(), "logical_cores": os.cpu_count(), "python": platform.python_version(),
         "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    print("# machine: " + ", ".join(f"{k}={v}" for k, v in m.items()), flush=True)
    payload: dict[str, Any] = {"machine": m, "data": str(data)}
    if "agreement" in rows:
        res = agreement(data, rules)
        payload["agreement"] = res
        print(f"\n## agreement with the shipped silver labels ({res['sentences']:,} sentences; relabel() end to "
              f"end {res['relabel_wall_s']} s)\n")
        print(common.table(res["rows"], list(res["rows"][0])))
        for d in res["differences"]:
            print(f"  differs: sentence {d['sentence']} {d['type']} only in {d['side']}: {d['text']!r}")
        print("\n## label-quality report of the relabelling\n")
        q = quality_rows(res["report"])
        print(common.table(q, list(q[0])))
    if "score" in rows:
        payload["score"] = sc = scores(data, rules)
        print("\n## dictionary labelling scored on the gold pubmed_test.jsonl\n")
        print(common.table(sc, list(sc[0])))
    if "speed" in rows:
        payload["speed"] = sp = speed(data, rules, args.repeat, args.max_load)
        print("\n## speed: token trie vs per-name scan, same tokens, same run\n")
        print(common.table([sp], list(sp)))
    if "memory" in rows:
        payload["memory"] = mem = memory(data, args.names, args.max_load)
        print("\n## memory: peak RSS of a child process (read dictionaries, build, relabel the silver corpus)\n")
        print(common.table(mem, list(mem[-1])))
    common.save_json(args.json, payload)


if __name__ == "__main__":
    main()
