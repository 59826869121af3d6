"""The model card `bioner publish` uploads as README.md: the Hub metadata header (huggingface_hub.ModelCardData)
and the card's text, from a checkpoint's labels, config snapshot, metrics.json and optional `bioner report` group
(what it states: bioner.tagging.publish's docstring). `bioner.tagging.publish` re-exports every name here."""

from __future__ import annotations

from typing import Any

import yaml

from ..settings.labels import TEST_SETS
from ..settings.strategies import STRATEGIES

TEST_TEXT = {
    "test_bc5cdr": "BC5CDR test (BioCreative V CDR): gold for Chemical and Disease only",
    "test_pubmed": "PubMed test: 100 sentences, gold for Gene (70 BC2GM sentences) and Virus (30 species-corpus "
                   "sentences) only; with so few sentences its F1s move by several points between seeds",
}
PREFIX = {"test_bc5cdr": "bc5cdr", "test_pubmed": "pubmed"}


def _params(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The training params of a config snapshot (settings only: not the resolved values or the run summary)."""
    return {k: v for k, v in snapshot.items() if k not in ("resolved", "run")}


def _scored(keys: Any, types: list[str]) -> list[tuple[str, str]]:
    """(test set, entity or "micro") pairs that `keys` (metrics.json or report keys) hold an F1 for, in the test
    set table's order and the model's type order: the types each test set was scored on."""
    out = []
    for ts in TEST_SETS:
        p = PREFIX[ts]
        out += [(ts, t) for t in types if f"{p}_f1_{t}" in keys]
        out += [(ts, "micro")] if f"{p}_f1" in keys else []
    return out


def _scores(metrics: dict[str, Any], types: list[str]) -> list[dict[str, Any]]:
    """Rows (test set, entity, P, R, F1, support) from a flat metrics.json."""
    rows = []
    for ts, t in _scored(metrics, types):
        p, sfx = PREFIX[ts], "" if t == "micro" else f"_{t}"
        rows.append({"test_set": ts, "entity": t, "precision": metrics.get(f"{p}_precision{sfx}"),
                     "recall": metrics.get(f"{p}_recall{sfx}"), "f1": metrics[f"{p}_f1{sfx}"],
                     "support": metrics.get(f"{p}_support{sfx}")})
    return rows


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


def model_card(repo_id: str, labels: list[str], snapshot: dict[str, Any], metrics: dict[str, Any] | None,
               group: dict[str, Any] | None = None) -> str:
    """README.md text: the Hub metadata header + the card (module docstring)."""
    from huggingface_hub import EvalResult, ModelCardData

    types = list(dict.fromkeys(lab[2:] for lab in labels if lab != "O"))
    params = _params(snapshot)
    resolved = snapshot.get("resolved") or {}
    run = snapshot.get("run") or {}
    strategy, backbone, seed = params.get("strategy"), params.get("backbone"), params.get("seed")
    model_id = str(resolved.get("model_id") or backbone)
    data = params.get("data") or {}
    source = data.get("source")
    hub_data = source == "hub"
    base_model = {"minilm": "sentence-transformers/all-MiniLM-L6-v2"}.get(
        str(backbone), model_id if model_id.count("/") == 1 and not model_id.startswith((".", "/", "~")) else None)
    rows = _scores(metrics, types) if metrics else []
    evals = [EvalResult(task_type="token-classification", task_name="Named entity recognition",
                        dataset_type=str(data.get("repo")) if hub_data else ts,
                        dataset_name=TEST_TEXT[ts].split(":")[0],
                        dataset_split="test", metric_type="f1", metric_name=f"F1 ({r['entity']})",
                        metric_value=round(float(r["f1"]), 4))
             for r in rows for ts in [r["test_set"]]]
    card_data = ModelCardData(
        language="en", library_name="transformers", pipeline_tag="token-classification",
        tags=["bioner-ds", "biomedical", "named-entity-recognition", "token-classification", *types],
        base_model=base_model, datasets=[str(data.get("repo"))] if hub_data else None,
        model_name=repo_id.split("/")[1] if evals else None, eval_results=evals or None)
    name = repo_id.split("/")[1]
    if source == "hub":
        data_line = f"the Hugging Face dataset `{data.get('repo')}` at revision `{data.get('revision')}`"
    elif source == "sample":
        data_line = (f"the synthetic sample corpus of BioNER-DS (`bioner.sample`, seed {data.get('sample_seed')}), "
                     "not real data")
    else:
        data_line = ("a local copy of the BioNER-DS data in the Hub layout, not the revision-pinned Hub dataset "
                     f"`{data.get('repo')}`")
    counts = run.get("data") or {}
    read = (f" The run read {counts.get('gold_sentences')} gold, {counts.get('silver_sentences', 0)} silver and "
            f"{counts.get('validation_sentences')} validation sentences (`bioner train --data_dir` outside the DVC "
            "pipeline reads its files from elsewhere without changing `data.source`)." if counts else "")
    record = STRATEGIES.get(str(strategy))
    uses_silver = record.uses_silver if record else True
    sources_line = ("Gold: BC5CDR train (Chemical, Disease)." if not uses_silver else
                    "Gold: BC5CDR train (Chemical, Disease); silver: sentences from BC2GM, LINNAEUS, "
                    "BioNLP11ID/13CG with Gene/Virus labels from dictionary matching (silver:gold ratio "
                    f"`{(params.get('silver') or {}).get('ratio')}`).")
    shown_model = base_model or model_id
    scope = " and ".join([", ".join(t.lower() + ("es" if t == "Virus" else "s") for t in types[:-1]),
                          types[-1].lower() + ("es" if types[-1] == "Virus" else "s")]) if len(types) > 1 else types[0]
    gold_types = (params.get("sources") or {}).get("gold") or []
    covered = ["test_bc5cdr"] + (["test_pubmed"] if any(t not in gold_types for t in types) else [])
    lines = [
        f"# {name}", "",
        f"A token classifier for **{', '.join(types)}** mentions in biomedical text, built with "
        f"BioNER-DS on `{shown_model}` (backbone `{backbone}`): strategy `{strategy}`, "
        f"{record.summary if record else 'see the params below'}.", "",
        "## Use", "",
        "```python",
        "from bioner import Tagger                      # pip install bioner-ds",
        f'tagger = Tagger.load("{repo_id}")              # revision="<commit sha>" pins this version',
        'tagger.predict(["SARS-CoV-2 raised IL-6 in cisplatin-treated patients."])',
        "```", "",
        "Each input is a text (spans carry character offsets into it) or a list of tokens; each span has "
        "`entity`, `type`, `start_token`, `end_token` (inclusive), `score`. Shell: "
        f"`bioner predict --checkpoint {repo_id} --input abstracts.txt --output spans.jsonl`.", "",
        "With plain transformers (the model labels each word at its first sub-token, so aggregate the same way):",
        "", "```python", "from transformers import pipeline",
        f'ner = pipeline("token-classification", model="{repo_id}", aggregation_strategy="first")',
        'ner("SARS-CoV-2 raised IL-6 in cisplatin-treated patients.")', "```", "",
        "## Labels", "", "| id | label |", "|---:|---|", *[f"| {i} | `{lab}` |" for i, lab in enumerate(labels)], "",
        "IOB2; predicted labels are repaired to valid IOB2 (an `I-X` that does not continue an X span starts one) "
        "before spans are read, and test scores are computed on exactly those spans.", "",
        "## Training", "",
        f"- Data (setting `data.source: {source}`): {data_line}.{read} {sources_line}",
        f"- Seed {seed}; learning rate {resolved.get('learning_rate')}; "
        f"best validation F1 {_fmt((run.get('phase2') or run.get('phase1') or {}).get('best_validation_f1'))}.",
        "- Every training param (`config_snapshot.yaml` of the run):", "", "```yaml",
        yaml.safe_dump(params, sort_keys=False).rstrip(), "```", "",
    ]
    lines += ["## Evaluation", ""]
    if rows:
        lines += ["Entity-level precision / recall / F1 (exact span match, conlleval-compatible) of **this "
                  f"checkpoint** (1 seed: {seed}); each test set is scored only on the types it is gold for.", "",
                  "| test set | entity | P | R | F1 | gold spans |", "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {r['test_set']} | {r['entity']} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | "
                  f"{_fmt(r['f1'])} | {_fmt(r['support'])} |" for r in rows]
    else:
        lines += ["No test scores were given at publish time (`bioner publish --metrics metrics/metrics.json`)."]
    if group:
        gm = group.get("metrics") or {}
        keys = _scored(gm, types)
        n = max((m.get("n", 0) for m in gm.values() if isinstance(m, dict)), default=0)
        lines += ["", f"Across the {n} seeds of this configuration ({group.get('label')}; seeds "
                  f"{', '.join(map(str, group.get('seeds', [])))}), F1 mean +- sample std:", "",
                  "| test set | entity | F1 mean | std | n |", "|---|---|---:|---:|---:|"]
        for ts, t in keys:
            m = gm[f"{PREFIX[ts]}_f1{'' if t == 'micro' else '_' + t}"]
            lines.append(f"| {ts} | {t} | {_fmt(m.get('mean'))} | {_fmt(m.get('std'))} | {m.get('n')} |")
    lines += [
        "", "## Intended use", "",
        f"Tagging {scope} in English biomedical abstracts and papers, in bulk (e.g. to build a knowledge graph), by "
        "researchers who check what they cite: every span comes with a score and its offsets in the source text. "
        "Not for clinical decisions.", "",
        "## Limitations", "",
        *[f"- {TEST_TEXT[ts]}." for ts in covered],
        "- Gene and Virus are learned from **silver** labels (dictionary matches): ambiguous acronyms (ER, RT, "
        "CT, PD), enzymes and hormones are mislabelled there, and names outside the dictionaries are taught as "
        "O, so expect lower recall on them than on the gold-trained Chemical and Disease."
        if uses_silver else
        "- Trained on BC5CDR only: it knows Chemical and Disease, nothing else.",
        "- Trained on BC5CDR-style tokenization (every punctuation character a token); `Tagger.predict` splits "
        "text with a rule that keeps names such as SARS-CoV-2 and IL-6 whole (`tokenizer=\"punct\"` splits like "
        "the corpus).",
        "- Sentences longer than the model's window are tagged in overlapping windows; nothing is truncated.", "",
    ]
    return f"---\n{card_data.to_yaml()}\n---\n\n" + "\n".join(lines)
