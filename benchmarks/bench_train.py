"""Training throughput: the project's train step vs the seed's setup, in real (non-pad) tokens per second.

Same model (same initial weights), same encoded BC5CDR train sentences (single_source, 5-tag), same batch size,
learning rate, schedule and number of optimizer steps:

- ours: `bioner.trainer.WeightedTokenTrainer` + `Collator` with the TrainingArguments `bioner train` builds
  (`runtime.training_args`: length-grouped batches, weight/source columns), evaluation and saving off;
- seed: a plain `transformers.Trainer` + `DataCollatorForTokenClassification` (dynamic padding, random order,
  no length grouping);
- context: the seed's Trainer with every sentence padded to 512 (the collator's padding="max_length").

Timing: optimizer steps after --warmup steps, from a callback (setup, data loading before the first step and
the end of training excluded); tokens: counted in the collator (attention_mask sum = real tokens; all positions
= padded). Padding waste = pad positions / all positions, over the measured steps and, from the sampler alone,
over one whole epoch. Backbones: `tiny` (built like `bioner train` builds it), `minilm` (all-MiniLM-L6-v2) and
`bert-base-random` (a BERT-base-sized config, random init, MiniLM's uncased 30,522-word vocab = bert-base-uncased's).

    OMP_NUM_THREADS=1 python benchmarks/bench_train.py [--data real|sample] [--rows tiny,minilm,bert-base-random]
        [--threads 1] [--json scratch/bench/train.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,I001  (sets thread/offline env before torch is imported)

import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForTokenClassification,
    BertConfig,
    DataCollatorForTokenClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_callback import PrinterCallback  # noqa: E402
from transformers.trainer_pt_utils import get_length_grouped_indices  # noqa: E402

from bioner.training import runtime, trainer
from bioner.training import modeling  # noqa: E402
from bioner.training.align import encode  # noqa: E402
from bioner.data.corpus import load_corpus  # noqa: E402
from bioner.settings.labels import DATA_FILES  # noqa: E402
from bioner.settings.settings import from_dict  # noqa: E402

#: backbone row -> (optimizer steps measured, also run the pad-512 context row?)
DEFAULT_STEPS = {"tiny": 150, "minilm": 40, "bert-base-random": 8}
PAD512_STEPS = {"tiny": 20, "minilm": 4}


class Counting:
    """Wraps a collator; records real and padded token counts of every batch it builds (in order)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.real, self.padded = inner, [], []

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        batch = self.inner(features)
        self.real.append(int(batch["attention_mask"].sum()))
        self.padded.append(int(batch["attention_mask"].numel()))
        return batch


class StepClock(TrainerCallback):
    def __init__(self) -> None:
        self.t: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):  # noqa: D102
        self.t.append(time.perf_counter())


def make_model(kind: str, path: Any, label2id: dict[str, int], seed: int) -> Any:
    set_seed(seed)
    if kind == "bert-base-random":
        cfg = BertConfig(vocab_size=30522, num_labels=len(label2id), label2id=label2id,
                         id2label={i: k for k, i in label2id.items()})  # hidden 768, 12 layers, 12 heads
        return AutoModelForTokenClassification.from_config(cfg)
    return modeling.load_for_training(path, label2id)


def epoch_waste(lengths: list[int], batch_size: int, grouped: bool, seed: int) -> float:
    """Pad share over one epoch of batches, from the sampler alone (no training)."""
    g = torch.Generator().manual_seed(seed)
    order = (get_length_grouped_indices(lengths, batch_size, generator=g) if grouped
             else torch.randperm(len(lengths), generator=g).tolist())
    real = padded = 0
    for i in range(0, len(order), batch_size):
        b = [lengths[j] for j in order[i:i + batch_size]]
        real += sum(b)
        padded += max(b) * len(b)
    return 1 - real / padded


def run(name: str, trainer_cls: type, args: TrainingArguments, model: Any, ds: Any, collator: Any,
        warmup: int, **kw: Any) -> dict[str, Any]:
    counting, clock = Counting(collator), StepClock()
    trainer = trainer_cls(model=model, args=args, train_dataset=ds, data_collator=counting, callbacks=[clock], **kw)
    trainer.remove_callback(PrinterCallback)  # no log dicts on stdout
    trainer.train()
    n = len(clock.t)
    real, padded = sum(counting.real[warmup:n]), sum(counting.padded[warmup:n])
    secs = clock.t[-1] - clock.t[warmup - 1]
    return {"setup": name, "steps_timed": n - warmup, "seconds": round(secs, 2),
            "real_tokens_per_s": round(real / secs, 1), "padded_positions_per_s": round(padded / secs, 1),
            "pad_waste_steps_%": round(100 * (1 - real / padded), 1), "s_per_step": round(secs / (n - warmup), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="real", help="real (../shared/data) | sample")
    ap.add_argument("--rows", default="tiny,minilm,bert-base-random")
    ap.add_argument("--steps", default=None, help="override, e.g. tiny=100,minilm=20")
    ap.add_argument("--warmup", type=int, default=2, help="first optimizer steps left out of the timing")
    ap.add_argument("--batch_size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=int(os.environ["OMP_NUM_THREADS"]))
    ap.add_argument("--no_pad512", action="store_true")
    ap.add_argument("--max_load", type=float, default=1.5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    common.set_threads(args.threads)
    info = common.print_machine()
    steps = dict(DEFAULT_STEPS)
    if args.steps:
        steps.update({k: int(v) for k, v in (kv.split("=") for kv in args.steps.split(","))})
    work = common.scratch_dir("bench_train_")
    data_dir = common.REAL_DATA if args.data == "real" else common.sample_data_dir(work / "sample")
    rows: list[dict[str, Any]] = []
    for kind in args.rows.split(","):
        backbone = {"bert-base-random": "minilm"}.get(kind, kind)
        s = from_dict({"strategy": "single_source", "backbone": backbone, "seed": args.seed,
                       "train": {"batch_size": args.batch_size}})
        gold = load_corpus(data_dir / DATA_FILES["train"], s.scheme.field, s.scheme.label2id)
        if kind == "tiny":  # as `bioner train` builds it for single_source: WordPiece on the gold train text
            path = modeling.build_tiny(gold.tokens, work / "tiny", s.tiny, s.seed)
        else:
            path = modeling.resolve_backbone(backbone)
        tok = modeling.load_tokenizer(path)
        l2i = s.scheme.label2id
        lr = s.learning_rate if kind != "bert-base-random" else s.train.auto_lr_random_init
        ds = encode(gold.tokens, gold.tags, l2i, tok, s.train.max_length,
                    extra_columns={"weight": [1.0] * len(gold), "source": [0] * len(gold)})
        lengths = list(ds.data.column("length").to_pylist())
        n_steps = steps[kind]
        total = n_steps + args.warmup
        ours_args = dataclasses.replace(
            runtime.training_args(s, work / "ours", s.train.epochs, lr, len(ds)),
            max_steps=total, eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
            logging_strategy="no", logging_first_step=False, disable_tqdm=True)
        seed_kw = dict(output_dir=str(work / "seed"), per_device_train_batch_size=args.batch_size,
                       learning_rate=lr, weight_decay=s.train.weight_decay, warmup_steps=s.train.warmup_ratio,
                       lr_scheduler_type="linear", max_steps=total, seed=args.seed, data_seed=args.seed,
                       eval_strategy="no", save_strategy="no", logging_strategy="no", report_to="none",
                       disable_tqdm=True, use_cpu=not torch.cuda.is_available())
        setups = [
            ("ours: WeightedTokenTrainer, length-grouped", trainer.WeightedTokenTrainer, ours_args,
             trainer.Collator(tok), True),
            ("seed: Trainer, DataCollatorForTokenClassification, random order", Trainer,
             TrainingArguments(**seed_kw), DataCollatorForTokenClassification(tok), False),
        ]
        if not args.no_pad512 and kind in PAD512_STEPS:
            seed_kw512 = {**seed_kw, "max_steps": PAD512_STEPS[kind] + 1}
            setups.append(("context: seed Trainer, every sentence padded to 512", Trainer,
                           TrainingArguments(**seed_kw512),
                           DataCollatorForTokenClassification(tok, padding="max_length", max_length=512), None))
        for name, cls, targs, collator, grouped in setups:
            warm = args.warmup if grouped is not None else 1
            model = make_model(kind, path, l2i, args.seed)
            load_before = common.wait_for_quiet(args.max_load)
            r = run(name, cls, targs, model, ds, collator, warm)
            r.update({"backbone": kind, "data": args.data, "batch_size": args.batch_size,
                      "torch_threads": torch.get_num_threads(), "load_before": load_before,
                      "load_after": common.loadavg()})
            waste = (epoch_waste(lengths, args.batch_size, grouped, args.seed) if grouped is not None
                     else 1 - sum(lengths) / (512 * len(lengths)))
            r["pad_waste_epoch_%"] = round(100 * waste, 1)
            print(r, flush=True)
            rows.append(r)
            del model
        base = {r["setup"][:4]: r for r in rows if r["backbone"] == kind}
        if "ours" in base and "seed" in base:
            ratio = base["ours"]["real_tokens_per_s"] / base["seed"]["real_tokens_per_s"]
            base["ours"]["speedup_vs_seed"] = round(ratio, 2)
            print(f"# {kind}: ours / seed real tokens/s = {ratio:.2f}x", flush=True)
    print()
    print(common.table(rows, ["backbone", "setup", "steps_timed", "real_tokens_per_s", "speedup_vs_seed",
                              "pad_waste_steps_%", "pad_waste_epoch_%", "s_per_step", "torch_threads",
                              "load_before", "load_after"]))
    common.save_json(args.json, {"machine": info, "rows": rows})


if __name__ == "__main__":
    main()
