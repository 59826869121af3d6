"""The model card `bioner publish` uploads as README.md: the Hub metadata header (huggingface_hub.ModelCardData)
and the card's text, from a checkpoint's labels, config snapshot, metrics.json and optional `bioner report` group
(what it states: bioner.tagging.publish's docstring). Entity types are data: every type named in the card comes
from the checkpoint's label map and the run's `sources` settings."""

from __future__ import annotations

from typing import Any

import yaml

from ..settings.labels import COLUMNS, TEST_SETS, metric_key, scored_test_sets
from ..settings.settings import base_model_id
from ..settings.strategies import STRATEGIES, Strategy


def _params(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The training params of a config snapshot (settings only: not the resolved values or the run summary)."""
    return {k: v for k, v in snapshot.items() if k not in ("resolved", "run")}


def _scored(keys: Any, types: list[str]) -> list[tuple[str, str]]:
    """(test set, entity or "micro") pairs that `keys` (metrics.json or report keys) hold an F1 for, in the test
    set table's order and the model's type order: the types each test set was scored on."""
    out = []
    for name in scored_test_sets(keys):
        out += [(name, t) for t in types if metric_key(name, "f1", t) in keys]
        out += [(name, "micro")]
    return out


def _about(name: str) -> str:
    """What a test set is: the default table's text, else its name (a test set of `evaluate.test_sets`)."""
    return TEST_SETS[name].about if name in TEST_SETS else f"{name} test"


def _scores(metrics: dict[str, Any], types: list[str]) -> list[dict[str, Any]]:
    """Rows (test set, entity, one value per score column) from a flat metrics.json."""
    return [{"test_set": name, "entity": t, **{c: metrics.get(metric_key(name, c, t))
                                             for c in COLUMNS}}
            for name, t in _scored(metrics, types)]


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


def _and(names: list[str]) -> str:
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


class _Run:
    """What the card says about one run: its params, types (gold, silver, predicted) and strategy record."""

    def __init__(self, labels: list[str], snapshot: dict[str, Any]) -> None:
        self.types = list(dict.fromkeys(lab[2:] for lab in labels if lab != "O"))
        self.params = _params(snapshot)
        self.resolved = snapshot.get("resolved") or {}
        self.run = snapshot.get("run") or {}
        self.data = self.params.get("data") or {}
        sources = self.params.get("sources") or {}
        self.gold = [t for t in sources.get("gold") or [] if t in self.types]
        self.silver = [t for t in self.types if t not in self.gold]
        self.record: Strategy | None = STRATEGIES.get(str(self.params.get("strategy")))
        self.uses_silver = self.record.uses_silver if self.record else True
        backbone = self.params.get("backbone")
        self.model_id = str(self.resolved.get("model_id") or backbone)
        self.base_model = base_model_id(str(backbone), self.model_id)

    def test_types(self, name: str) -> list[str]:
        """The types a test set is gold for, as this run's card describes it: its view's types of the model."""
        return self.gold or self.types if TEST_SETS[name].view == "gold" else self.silver


def _card_data(repo_id: str, r: _Run, rows: list[dict[str, Any]]) -> Any:
    from huggingface_hub import EvalResult, ModelCardData

    hub_data = r.data.get("source") == "hub"
    evals = [EvalResult(task_type="token-classification", task_name="Named entity recognition",
                        dataset_type=str(r.data.get("repo")) if hub_data else row["test_set"],
                        dataset_name=_about(row["test_set"]).split(":")[0],
                        dataset_split="test", metric_type="f1", metric_name=f"F1 ({row['entity']})",
                        metric_value=round(float(row["f1"]), 4))
             for row in rows]
    return ModelCardData(
        language="en", library_name="transformers", pipeline_tag="token-classification",
        tags=["bioner-ds", "biomedical", "named-entity-recognition", "token-classification", *r.types],
        base_model=r.base_model, datasets=[str(r.data.get("repo"))] if hub_data else None,
        model_name=repo_id.split("/")[1] if evals else None, eval_results=evals or None)


def _use(repo_id: str) -> list[str]:
    return [
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
    ]


def _data_line(r: _Run) -> str:
    source, data = r.data.get("source"), r.data
    if source == "hub":
        line = f"the Hugging Face dataset `{data.get('repo')}` at revision `{data.get('revision')}`"
    elif source == "sample":
        line = (f"the synthetic sample corpus of BioNER-DS (`bioner.data.sample`, seed {data.get('sample_seed')}), "
                "not real data")
    else:
        line = ("a local copy of the BioNER-DS data in the Hub layout, not the revision-pinned Hub dataset "
                f"`{data.get('repo')}`")
    counts = r.run.get("data") or {}
    inputs = r.run.get("inputs") or {}
    where = (f" from `--data_dir {inputs['data_dir']}`" + (f", silver from `{inputs['silver_file']}`"
                                                         if inputs.get("silver_file") else "")
             if inputs.get("data_dir") else " (`bioner train --data_dir` outside the DVC pipeline reads its files "
             "from elsewhere without changing `data.source`)")
    read = (f" The run read {counts.get('gold_sentences')} gold, {counts.get('silver_sentences', 0)} silver and "
            f"{counts.get('validation_sentences')} validation sentences{where}." if counts else "")
    sources = (f"Gold: BC5CDR train ({', '.join(r.gold)})." if not r.uses_silver else
               f"Gold: BC5CDR train ({', '.join(r.gold)}); silver: the PubMed sentences of the data with "
               f"{'/'.join(r.silver)} labels from dictionary matching (silver:gold ratio "
               f"`{(r.params.get('silver') or {}).get('ratio')}`).")
    return f"- Data (setting `data.source: {source}`): {line}.{read} {sources}"


def _training(r: _Run) -> list[str]:
    best = (r.run.get("phase2") or r.run.get("phase1") or {}).get("best_validation_f1")
    return [
        "## Training", "",
        _data_line(r),
        f"- Seed {r.params.get('seed')}; learning rate {r.resolved.get('learning_rate')}; "
        f"best validation F1 {_fmt(best)}.",
        "- Every training param (`config_snapshot.yaml` of the run):", "", "```yaml",
        yaml.safe_dump(r.params, sort_keys=False).rstrip(), "```", "",
    ]


def _evaluation(r: _Run, rows: list[dict[str, Any]], group: dict[str, Any] | None) -> list[str]:
    lines = ["## Evaluation", ""]
    if rows:
        lines += ["Entity-level precision / recall / F1 (exact span match, conlleval-compatible) of **this "
                  f"checkpoint** (1 seed: {r.params.get('seed')}); each test set is scored only on the types it "
                  "is gold for.", "",
                  "| test set | entity | P | R | F1 | gold spans |", "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {row['test_set']} | {row['entity']} | " + " | ".join(_fmt(row[c]) for c in COLUMNS) + " |"
                  for row in rows]
    else:
        lines += ["No test scores were given at publish time (`bioner publish --metrics metrics/metrics.json`)."]
    if group:
        gm = group.get("metrics") or {}
        n = max((m.get("n", 0) for m in gm.values() if isinstance(m, dict)), default=0)
        lines += ["", f"Across the {n} seeds of this configuration ({group.get('label')}; seeds "
                  f"{', '.join(map(str, group.get('seeds', [])))}), F1 mean +- sample std:", "",
                  "| test set | entity | F1 mean | std | n |", "|---|---|---:|---:|---:|"]
        for name, t in _scored(gm, r.types):
            m = gm[metric_key(name, "f1", t)]
            lines.append(f"| {name} | {t} | {_fmt(m.get('mean'))} | {_fmt(m.get('std'))} | {m.get('n')} |")
    return lines


def _limitations(r: _Run) -> list[str]:
    covered = [n for n, ts in TEST_SETS.items() if ts.view == "gold" or r.silver]
    tests = [f"- {TEST_SETS[n].about.split(';')[0]}: gold for {_and(r.test_types(n))} only"
             + "".join(f";{part}" for part in TEST_SETS[n].about.split(";")[1:]) + "." for n in covered]
    silver = (f"- {_and(r.silver)} {'is' if len(r.silver) == 1 else 'are'} learned from **silver** labels "
              "(dictionary matches): ambiguous names such as acronyms are mislabelled there, and names outside "
              "the dictionaries are taught as O, so expect lower recall on them than on the gold-trained "
              f"{_and(r.gold)}." if r.uses_silver and r.silver else
              f"- Trained on the gold corpus only: it knows {_and(r.types)}, nothing else.")
    return [
        "## Limitations", "", *tests, silver,
        "- Trained on BC5CDR-style tokenization (every punctuation character a token); `Tagger.predict` splits "
        "text the same way by default (`tokenizer=\"bio\"` keeps names such as SARS-CoV-2 and IL-6 one token, "
        "which scores lower with this model: `Cisplatin-induced` is one word there).",
        "- Sentences longer than the model's window are tagged in overlapping windows; nothing is truncated.", "",
    ]


def model_card(repo_id: str, labels: list[str], snapshot: dict[str, Any], metrics: dict[str, Any] | None,
               group: dict[str, Any] | None = None) -> str:
    """README.md text: the Hub metadata header + the card (module docstring)."""
    r = _Run(labels, snapshot)
    rows = _scores(metrics, r.types) if metrics else []
    strategy, backbone = r.params.get("strategy"), r.params.get("backbone")
    lines = [
        f"# {repo_id.split('/')[1]}", "",
        f"A token classifier for **{', '.join(r.types)}** mentions in biomedical text, built with "
        f"BioNER-DS on `{r.base_model or r.model_id}` (backbone `{backbone}`): strategy `{strategy}`, "
        f"{r.record.summary if r.record else 'see the params below'}.", "",
        *_use(repo_id),
        "## Labels", "", "| id | label |", "|---:|---|", *[f"| {i} | `{lab}` |" for i, lab in enumerate(labels)], "",
        "IOB2; predicted labels are repaired to valid IOB2 (an `I-X` that does not continue an X span starts one) "
        "before spans are read, and test scores are computed on exactly those spans.", "",
        *_training(r), *_evaluation(r, rows, group), "",
        "## Intended use", "",
        f"Tagging {_and(r.types)} mentions in English biomedical abstracts and papers, in bulk (e.g. to build a "
        "knowledge graph), by researchers who check what they cite: every span comes with a score and its offsets "
        "in the source text. Not for clinical decisions.", "",
        *_limitations(r),
    ]
    return f"---\n{_card_data(repo_id, r, rows).to_yaml()}\n---\n\n" + "\n".join(lines)
