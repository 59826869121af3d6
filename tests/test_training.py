"""Training (bioner.training): every strategy end to end, output layout, the weighted / partial-label losses,
sequential phase 2 starting from phase 1, and a learnability threshold on the default sample."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from safetensors.torch import load_file
from transformers import TrainingArguments

from bioner.data.corpus import load_corpus
from bioner.data.metrics import entity_scores
from bioner.settings import settings as S
from bioner.settings.labels import CONFIG_TYPES_KEY, DATA_FILES, SEED_TYPES, TEST_SETS
from bioner.settings.strategies import STRATEGIES
from bioner.tagging.evaluation import evaluate
from bioner.tagging.inference import tag_words
from bioner.training import run
from bioner.training.align import IGNORE
from bioner.training.data import GOLD, SILVER, build_datasets, load_training_corpora, vocab_texts
from bioner.training.loss import label_masks, token_losses
from bioner.training.modeling import load_checkpoint, load_for_training, load_tokenizer
from bioner.training.run import train
from bioner.training.runtime import run_fingerprint
from bioner.training.trainer import Collator, WeightedTokenTrainer

SCHEME9 = SEED_TYPES.scheme("gold+silver")  # the seed's 9-label gold+silver space
L9 = SCHEME9.label2id

TINY = {"vocab_size": 1000, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64}


def tiny_settings(strategy: str, **over: Any) -> S.Settings:
    params: dict = {"strategy": strategy, "backbone": "tiny", "seed": 0, "silver": {"ratio": "1"},
                    "train": {"epochs": 1, "batch_size": 16, "max_length": 64, "phase2": {"epochs": 1}},
                    "tiny": TINY}
    for k, v in over.items():
        S.set_dotted(params, k.replace("__", "."), v)
    return S.from_dict(params)


# ---------------------------------------------------------------------------------------------------------------
# every strategy trains, writes the documented layout, reloads and evaluates
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, small_sample_dir: Path) -> dict[str, tuple[Path, dict]]:
    runs = {}
    for strategy in STRATEGIES:
        out = tmp_path_factory.mktemp(strategy) / "models"
        s = tiny_settings(strategy, train__epochs=0.5 if strategy != "sequential" else 1)
        summary = train(s, out, data_dir=small_sample_dir, silver_dir=None,
                                 work_dir=out.parent / "work", live_dir=out.parent / "live")
        runs[strategy] = (out, summary)
    return runs


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_strategy_trains_and_checkpoint_reloads(strategy: str, trained: dict, small_sample_dir: Path) -> None:
    out, summary = trained[strategy]
    s = tiny_settings(strategy)
    best = out / "best_model"
    # layout: safetensors + tokenizer + label maps; no pickle, no optimizer state
    assert (best / "model.safetensors").is_file() and (best / "tokenizer.json").is_file()
    assert not list(best.glob("*.bin")) and not list(best.glob("optimizer*")) and not list(best.glob("*.pt"))
    tok, model = load_checkpoint(best)
    assert model.config.label2id == s.scheme.label2id
    assert getattr(model.config, CONFIG_TYPES_KEY) == {"gold": ["Chemical", "Disease"], "silver": ["Virus", "Gene"]}
    assert {int(k): v for k, v in model.config.id2label.items()} == s.scheme.id2label
    assert len(tok) == model.config.vocab_size
    assert (out / "phase1" / "best_model" / "model.safetensors").is_file() == (strategy == "sequential")
    snap = yaml.safe_load((out / "config_snapshot.yaml").read_text())
    assert snap["strategy"] == strategy and snap["resolved"]["label_scheme"] == s.scheme.name
    assert snap["run"]["phase1"]["steps"] > 0 and ("phase2" in snap["run"]) == (strategy == "sequential")
    n_gold = snap["run"]["data"]["gold_sentences"]
    assert n_gold == 120 and snap["run"]["data"]["silver_sentences"] == (0 if strategy == "single_source" else 120)
    assert (out.parent / "live" / "metrics.json").is_file()  # dvclive summary
    # the checkpoint is scored on every test set its label space covers (the label-space rule)
    results = {ts: evaluate(best, ts, data_dir=small_sample_dir) for ts in TEST_SETS}
    assert [ts for ts, res in results.items() if res["applicable"]] == \
        ["bc5cdr"] + (["pubmed"] if s.scheme == SCHEME9 else [])
    for res in results.values():
        assert res["sentences"] == 40 and res["micro"]["support"] > 0


def test_validation_f1_equals_the_windowed_tagger_on_untruncated_sentences(trained: dict,
                                                                          small_sample_dir: Path) -> None:
    """Two inference paths, one score: the Trainer's validation loop (truncated at train.max_length, loss, DDP)
    and the windowed tagger of evaluate/predict agree on the saved best model's validation F1 when no
    validation sentence is longer than max_length -- the only case where they differ (docs/design.md s.6)."""
    tagger_f1s = {}
    for strategy, (out, summary) in trained.items():
        s = tiny_settings(strategy)
        assert summary["data"]["validation_truncated"] == 0  # the precondition of equality on this corpus
        val = load_corpus(small_sample_dir / DATA_FILES["validation"], s.scheme.field, s.scheme.label2id)
        tok, model = load_checkpoint(out / "best_model")
        preds = [p.labels for p in tag_words(val.tokens, tok, model, max_length=s.train.max_length)]
        tagger_f1s[strategy] = entity_scores(val.tags, preds, s.scheme.entity_types)["micro"]["f1"]
        best = summary.get("phase2", summary["phase1"])["best_validation_f1"]
        assert best == pytest.approx(tagger_f1s[strategy], abs=1e-9), strategy
    assert max(tagger_f1s.values()) > 0, tagger_f1s  # not only models that predict nothing


def test_joint_datasets_carry_weight_and_source(small_sample_dir: Path, tiny_backbone: Path) -> None:
    tok = load_tokenizer(tiny_backbone)
    weights = {}
    for strategy in ("joint_uniform", "joint_noise_aware"):
        s = tiny_settings(strategy, silver__weight=0.25)
        data = build_datasets(s, load_training_corpora(s, small_sample_dir, None), tok)
        pairs = list(zip(data.train["source"], data.train["weight"], strict=True))
        weights[strategy] = pairs
        assert len(pairs) == 240 and data.phase2 is None
        assert {w for src, w in pairs if src == GOLD} == {1.0}
    assert {w for src, w in weights["joint_uniform"] if src == SILVER} == {1.0}
    assert {w for src, w in weights["joint_noise_aware"] if src == SILVER} == {0.25}
    # gold and silver are shuffled together, not concatenated in blocks
    sources = [src for src, _ in weights["joint_uniform"]]
    assert sources[:120] != [GOLD] * 120
    seq = tiny_settings("sequential", silver__ratio="2")
    data = build_datasets(seq, load_training_corpora(seq, small_sample_dir, None), tok)
    assert set(data.train["source"]) == {GOLD} and len(data.train) == 120
    assert set(data.phase2["source"]) == {SILVER} and len(data.phase2) == 240


# ---------------------------------------------------------------------------------------------------------------
# losses
def _trainer(tmp_path: Path, model: Any, o_masks: torch.Tensor | None = None) -> WeightedTokenTrainer:
    args = TrainingArguments(output_dir=str(tmp_path / "t"), report_to="none", use_cpu=True,
                             per_device_train_batch_size=8, remove_unused_columns=False)
    return WeightedTokenTrainer(model=model, args=args, o_masks=o_masks)


def _mixed_batch(small_sample_dir: Path, tiny_backbone: Path, strategy: str) -> dict[str, torch.Tensor]:
    """The first 16 examples of the joint training set of `strategy` (same order for every joint strategy)."""
    tok = load_tokenizer(tiny_backbone)
    s = tiny_settings(strategy)
    data = build_datasets(s, load_training_corpora(s, small_sample_dir, None), tok)
    batch = Collator(tok)([data.train[i] for i in range(16)])
    assert set(batch["source"].tolist()) == {GOLD, SILVER}
    return batch


def test_noise_aware_weights_change_the_loss(tmp_path: Path, small_sample_dir: Path, tiny_backbone: Path) -> None:
    torch.manual_seed(0)
    model = load_for_training(tiny_backbone, L9).eval()
    trainer = _trainer(tmp_path, model)
    uni = _mixed_batch(small_sample_dir, tiny_backbone, "joint_uniform")
    noisy = _mixed_batch(small_sample_dir, tiny_backbone, "joint_noise_aware")
    assert torch.equal(uni["input_ids"], noisy["input_ids"]) and torch.equal(uni["labels"], noisy["labels"])
    assert set(noisy["weight"].tolist()) == {1.0, 0.5} and set(uni["weight"].tolist()) == {1.0}
    with torch.no_grad():
        ref = model(input_ids=uni["input_ids"], attention_mask=uni["attention_mask"], labels=uni["labels"])
        loss_uni = trainer.compute_loss(model, dict(uni))
        loss_noisy = trainer.compute_loss(model, dict(noisy))
    # uniform weights = the model's own mean token cross-entropy; silver at 0.5 lowers the loss
    assert loss_uni.item() == pytest.approx(ref.loss.item(), rel=1e-5)
    assert loss_noisy.item() < loss_uni.item() - 1e-4
    ce = torch.nn.functional.cross_entropy(ref.logits.transpose(1, 2), uni["labels"], reduction="none")
    expected = (ce * noisy["weight"][:, None]).sum() / uni["labels"].ne(IGNORE).sum()
    assert loss_noisy.item() == pytest.approx(expected.item(), rel=1e-5)
    # with num_items_in_batch (gradient accumulation / DDP): sum over tokens / items of the accumulated batch
    with torch.no_grad():
        acc = trainer.compute_loss(model, dict(noisy), num_items_in_batch=torch.tensor(1000))
    assert acc.item() == pytest.approx((ce * noisy["weight"][:, None]).sum().item() / 1000, rel=1e-5)


def test_label_masks() -> None:
    m = label_masks(SCHEME9, {GOLD: ("Chemical", "Disease", "Virus", "Gene"), SILVER: ("Virus", "Gene")})
    allowed = {src: {SCHEME9.id2label[i] for i in range(9) if m[src, i]} for src in (GOLD, SILVER)}
    assert allowed[GOLD] == {"O"}
    assert allowed[SILVER] == {"O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease"}


def test_partial_label_loss() -> None:
    """An O token of a silver sentence may be an unannotated Chemical: moving probability mass between O and
    Chemical costs nothing there, but it does for a gold sentence and for a type silver annotates (Gene)."""
    L = L9
    masks = label_masks(SCHEME9, {GOLD: ("Chemical", "Disease", "Virus", "Gene"), SILVER: ("Virus", "Gene")})
    base = torch.zeros(9)
    base[L["O"]] = 2.0
    to_chem = base.clone()
    to_chem[L["O"]], to_chem[L["B-Chemical"]] = 0.0, 2.0  # same total mass on {O, B-Chemical}
    to_gene = base.clone()
    to_gene[L["O"]], to_gene[L["B-Gene"]] = 0.0, 2.0
    labels = torch.tensor([[L["O"]], [L["O"]]])
    source = torch.tensor([GOLD, SILVER])

    def loss(logits: torch.Tensor) -> torch.Tensor:  # [2 sentences (gold, silver), 1 token]
        return token_losses(logits.expand(2, 1, 9).clone(), labels, source, masks)[:, 0]

    a, b, g = loss(base), loss(to_chem), loss(to_gene)
    assert b[1].item() == pytest.approx(a[1].item(), abs=1e-6)  # silver O: O <-> Chemical is free
    assert b[0].item() > a[0].item() + 1.0  # gold O: it is not
    assert g[1].item() > a[1].item() + 0.5  # silver O: O <-> Gene is not free either
    # without masks: plain cross-entropy everywhere
    plain = token_losses(to_chem.expand(2, 1, 9).clone(), labels)[:, 0]
    assert plain[1].item() == pytest.approx(b[0].item()) and plain[1].item() > b[1].item() + 1.0
    # a labelled (non-O) silver token keeps plain cross-entropy; -100 costs nothing
    lab = torch.tensor([[L["B-Gene"], IGNORE]])
    logits = torch.randn(1, 2, 9, requires_grad=True)
    per_tok = token_losses(logits, lab, torch.tensor([SILVER]), masks)
    assert per_tok[0, 1].item() == 0.0
    ce = torch.nn.functional.cross_entropy(logits[0, :1], lab[0, :1])
    assert per_tok[0, 0].item() == pytest.approx(ce.item(), rel=1e-5)
    per_tok.sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_partial_trainer_uses_masks(tmp_path: Path, small_sample_dir: Path, tiny_backbone: Path) -> None:
    torch.manual_seed(0)
    model = load_for_training(tiny_backbone, L9).eval()
    batch = _mixed_batch(small_sample_dir, tiny_backbone, "joint_partial")
    masks = label_masks(SCHEME9, {GOLD: ("Chemical", "Disease", "Virus", "Gene"), SILVER: ("Virus", "Gene")})
    with torch.no_grad():
        plain = _trainer(tmp_path, model).compute_loss(model, dict(batch))
        partial = _trainer(tmp_path, model, masks).compute_loss(model, dict(batch))
    assert partial.item() < plain.item() - 1e-4  # silver O tokens may be Chemical/Disease: less loss


# ---------------------------------------------------------------------------------------------------------------
def test_sequential_phase2_starts_from_phase1_best(tmp_path: Path, small_sample_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []
    real = run.run_phase

    def spy(s, model, tokenizer, train_ds, val_ds, out, epochs, lr, *rest):
        calls.append({"weights": {k: v.detach().clone() for k, v in model.state_dict().items()},
                      "n": len(train_ds), "sources": set(train_ds["source"]), "epochs": epochs, "lr": lr})
        return real(s, model, tokenizer, train_ds, val_ds, out, epochs, lr, *rest)

    monkeypatch.setattr(run, "run_phase", spy)
    s = tiny_settings("sequential", silver__ratio="2", train__epochs=2, train__phase2__epochs=0.5)
    out = tmp_path / "models"
    summary = train(s, out, data_dir=small_sample_dir, silver_dir=None, work_dir=tmp_path / "work")
    assert len(calls) == 2
    p1, p2 = calls
    assert (p1["n"], p1["sources"], p1["epochs"]) == (120, {GOLD}, 2)
    assert (p2["n"], p2["sources"], p2["epochs"]) == (240, {SILVER}, 0.5)
    assert p1["lr"] == pytest.approx(2e-3) and p2["lr"] == pytest.approx(1e-3)
    phase1_best = load_file(str(out / "phase1" / "best_model" / "model.safetensors"))
    final = load_file(str(out / "best_model" / "model.safetensors"))
    # phase 2 starts from exactly the saved phase-1 best model (encoder and head) ...
    assert phase1_best.keys() == p2["weights"].keys()
    assert all(torch.equal(phase1_best[k], p2["weights"][k]) for k in phase1_best)
    # ... which is not the untrained start of phase 1, and phase 2 then changes it
    assert any(not torch.equal(phase1_best[k], p1["weights"][k]) for k in phase1_best)
    assert any(not torch.equal(phase1_best[k], final[k]) for k in final)
    assert summary["phase2"]["steps"] > 0


def test_same_seed_same_model_and_resume(tmp_path: Path, small_sample_dir: Path) -> None:
    s = tiny_settings("joint_uniform", train__epochs=0.5)
    a = train(s, tmp_path / "a", data_dir=small_sample_dir, silver_dir=None, work_dir=tmp_path / "wa")
    b = train(s, tmp_path / "b", data_dir=small_sample_dir, silver_dir=None, work_dir=tmp_path / "wb")
    # re-running with the same work dir resumes from the finished Trainer checkpoint instead of retraining
    c = train(s, tmp_path / "c", data_dir=small_sample_dir, silver_dir=None, work_dir=tmp_path / "wa")
    wa, wb, wc = (load_file(str(tmp_path / x / "best_model" / "model.safetensors")) for x in "abc")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert all(torch.equal(wa[k], wc[k]) for k in wa)
    assert a["fingerprint"] == b["fingerprint"] == c["fingerprint"]
    assert a["phase1"]["resumed_from"] is None and c["phase1"]["resumed_from"] is not None
    other = run_fingerprint(tiny_settings("joint_uniform", seed=1), small_sample_dir)
    assert other != a["fingerprint"]


# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_tiny_model_learns_the_default_sample(tmp_path: Path, sample_dir: Path) -> None:
    """Learnability: the tiny backbone on the default-size synthetic sample (1,000 gold + 1,000 silver
    sentences at ratio 1), 3 epochs, scores entity F1 > 0.7 on both synthetic test sets."""
    s = S.from_dict({"strategy": "joint_uniform", "backbone": "tiny", "seed": 0, "silver": {"ratio": "1"},
                     "train": {"epochs": 3, "batch_size": 16, "max_length": 128},
                     "tiny": {"hidden_size": 64, "num_layers": 2, "num_heads": 2, "intermediate_size": 256}})
    t0 = time.time()
    train(s, tmp_path / "models", data_dir=sample_dir, silver_dir=None, work_dir=tmp_path / "work")
    scores = {ts: evaluate(tmp_path / "models" / "best_model", ts, data_dir=sample_dir)
              for ts in ("test_bc5cdr", "test_pubmed")}
    wall = time.time() - t0
    f1 = {ts: r["micro"]["f1"] for ts, r in scores.items()}
    assert scores["test_bc5cdr"]["sentences"] == 200 and scores["test_pubmed"]["sentences"] == 200
    assert min(f1.values()) > 0.7, f1
    for r in scores.values():  # every annotated type is learned, not just the frequent one
        assert min(row["f1"] for row in r["per_entity"].values()) > 0.5, r["per_entity"]
    print(f"learnability: F1 {f1} in {wall:.1f} s")


@pytest.mark.parametrize(("vocab_text", "with_silver"), [("train", True), ("gold", False)])
def test_vocab_texts(small_sample_dir: Path, vocab_text: str, with_silver: bool) -> None:
    s = tiny_settings("joint_uniform", tiny__vocab_text=vocab_text)
    corpora = load_training_corpora(s, small_sample_dir, None)
    texts = vocab_texts(s, corpora)
    n_gold, n_silver = len(corpora["gold"].tokens), len(corpora["silver"].tokens)
    assert n_silver > 0 and len(texts) == n_gold + (n_silver if with_silver else 0)
    assert texts[:n_gold] == corpora["gold"].tokens
    # single_source has no silver corpus: both settings give the gold text
    ss = tiny_settings("single_source", tiny__vocab_text=vocab_text)
    assert vocab_texts(ss, load_training_corpora(ss, small_sample_dir, None)) == \
        load_training_corpora(ss, small_sample_dir, None)["gold"].tokens
