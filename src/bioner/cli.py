"""`bioner` console command: every pipeline stage also runs alone, outside DVC."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from . import settings as S

log = logging.getLogger("bioner")


class UserError(Exception):
    """Raised for problems the user can fix; printed as one line, exit code 2."""


def _known_errors() -> tuple[type[BaseException], ...]:
    from .corpus import CorpusError
    from .modeling import BackboneError

    errs: list[type[BaseException]] = [S.SettingsError, CorpusError, BackboneError, UserError, FileNotFoundError]
    try:
        from .sources import FetchError

        errs.append(FetchError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errs)


def _parse_value(raw: str) -> Any:
    """`-s key=value` values parse as YAML scalars (1e-3, true, 4, full)."""
    return yaml.safe_load(raw)


def load_settings(args: argparse.Namespace) -> S.Settings:
    """params.yaml (or defaults when absent and not asked for) + --config + explicit flags -> Settings."""
    path = Path(args.params)
    if path.is_file():
        params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    elif args.params_given:
        raise S.SettingsError(f"{path}: params file not found")
    else:
        params = S.Settings().model_dump(mode="json")
    if getattr(args, "config", None):
        S.apply_config(params, args.config)
    flag_map = {"strategy": "strategy", "backbone": "backbone", "seed": "seed", "epochs": "train.epochs",
                "batch_size": "train.batch_size", "learning_rate": "train.learning_rate",
                "source": "data.source", "ratio": "silver.ratio"}
    for attr, key in flag_map.items():
        val = getattr(args, attr, None)
        if val is not None:
            S.set_dotted(params, key, val)
    for item in getattr(args, "set", None) or []:
        if "=" not in item:
            raise S.SettingsError(f"--set {item!r}: expected KEY=VALUE, e.g. --set train.max_length=256")
        k, v = item.split("=", 1)
        S.set_dotted(params, k.strip(), _parse_value(v))
    return S.from_dict(params)


def _add_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--params", default="params.yaml", help="params file (default: ./params.yaml if present)")
    p.add_argument("--set", "-s", action="append", metavar="KEY=VALUE",
                   help="override any setting, e.g. -s silver.ratio=2 (repeatable)")


# ---------------------------------------------------------------------------------------------------------------
def cmd_fetch(args: argparse.Namespace) -> None:
    from .sources import fetch

    s = load_settings(args)
    manifest = fetch(s.data.source, Path(args.dest), repo=s.data.repo, revision=s.data.revision,
                     sample_seed=s.data.sample_seed)
    n = len(manifest.get("files", {}))
    print(f"fetched {n} files from {s.data.source} into {args.dest}")


def cmd_silver(args: argparse.Namespace) -> None:
    from .silver import write_subsets

    s = load_settings(args)
    stats = write_subsets(args.data_dir, args.out, s.silver.subset_seed)
    for r, st in stats["subsets"].items():
        print(f"silver ratio {r:>4}: {st['sentences']:>7} sentences  spans {st['spans']}")


def cmd_train(args: argparse.Namespace) -> None:
    from .training import train

    s = load_settings(args)
    log.info("training %s (strategy=%s, backbone=%s, seed=%d, lr=%g)", S.config_name(s.strategy, s.backbone),
             s.strategy, s.backbone, s.seed, s.learning_rate)
    summary = train(s, args.output_dir, data_dir=args.data_dir, silver_dir=args.silver_dir,
                    work_dir=args.work_dir, live_dir=args.live_dir)
    last = summary.get("phase2", summary["phase1"])
    print(f"best validation F1 {last['best_validation_f1']:.4f}; model in {Path(args.output_dir) / 'best_model'}")


def print_scores(res: dict) -> None:
    print(f"{res['test_set']}: {res['sentences']} sentences, types {', '.join(res['annotated_types'])}")
    print(f"  {'entity':<10} {'P':>7} {'R':>7} {'F1':>7} {'support':>8}")
    for t, row in [*res["per_entity"].items(), ("micro", res["micro"])]:
        print(f"  {t:<10} {row['precision']:7.4f} {row['recall']:7.4f} {row['f1']:7.4f} {row['support']:8d}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from .evaluation import evaluate

    res = evaluate(args.checkpoint, args.test_set, data_dir=args.data_dir, output=args.output,
                   batch_size=args.batch_size, device=args.device, allow_pickle=args.allow_pickle)
    print_scores(res)
    if args.output:
        print(f"wrote {args.output}")


def cmd_demo(args: argparse.Namespace) -> None:
    """Fetch the synthetic sample, train the tiny backbone (joint_uniform), score both test sets."""
    from .evaluation import evaluate
    from .sources import fetch
    from .training import train

    work = Path(args.workdir)
    s = S.from_dict({"strategy": args.strategy, "backbone": "tiny", "seed": args.seed,
                     "data": {"source": "sample"}, "train": {"epochs": args.epochs}})
    raw = work / "data" / "raw"
    fetch("sample", raw, repo=s.data.repo, revision=s.data.revision, sample_seed=s.data.sample_seed)
    print(f"sample corpus in {raw}; training tiny BERT ({s.strategy}, {args.epochs} epochs, lr {s.learning_rate})")
    train(s, work / "models", data_dir=raw, silver_dir=None, work_dir=work / "work")
    for ts in ("test_bc5cdr", "test_pubmed") if s.scheme.name == "9tag" else ("test_bc5cdr",):
        res = evaluate(work / "models" / "best_model", ts, data_dir=raw, output=work / "metrics" / f"eval_{ts}.json")
        print_scores(res)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="bioner", description=__doc__)
    ap.add_argument("-v", "--verbose", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("fetch", help="materialise the five JSONL files in data/raw (hub | sample | dir)")
    _add_params(p)
    p.add_argument("--source", help="override data.source: hub | sample | a directory")
    p.add_argument("--dest", default="data/raw")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("silver", help="nested silver subsets for ratios 1, 2, 4, full + stats.json")
    _add_params(p)
    p.add_argument("--data_dir", default="data/raw")
    p.add_argument("--out", default="data/silver")
    p.set_defaults(func=cmd_silver)

    p = sub.add_parser("train", help="train one configuration")
    _add_params(p)
    p.add_argument("--config", choices=list(S.CONFIGS), help="one of the six seed configurations")
    p.add_argument("--strategy", choices=S.STRATEGIES)
    p.add_argument("--backbone", help="alias (" + " | ".join(S.BACKBONE_ALIASES) + "), HF id or local path")
    p.add_argument("--seed", type=int)
    p.add_argument("--epochs", type=float)
    p.add_argument("--batch_size", type=int)
    p.add_argument("--learning_rate", type=float)
    p.add_argument("--ratio", help="silver:gold ratio: 1 | 2 | 4 | full")
    p.add_argument("--source", help=argparse.SUPPRESS)
    p.add_argument("--output_dir", default="models")
    p.add_argument("--data_dir", default="data/raw")
    p.add_argument("--silver_dir", default="data/silver")
    p.add_argument("--work_dir", default=None, help="Trainer checkpoints for resume (default: beside output)")
    p.add_argument("--live_dir", default=None, help="dvclive directory (training curves)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a checkpoint on a test set")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--test_set", required=True, choices=["test_bc5cdr", "test_pubmed"])
    p.add_argument("--data_dir", default="data/raw")
    p.add_argument("--output", help="JSON file to write")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--device", default=None)
    p.add_argument("--allow_pickle", action="store_true", help="allow loading pickle (.bin) weights")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("demo", help="offline end-to-end demo on the synthetic sample with the tiny backbone")
    p.add_argument("--workdir", default="scratch/demo")
    p.add_argument("--strategy", default="joint_uniform", choices=S.STRATEGIES)
    p.add_argument("--epochs", type=float, default=3)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_demo)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = build_parser()
    args = ap.parse_args(argv)
    args.params_given = "--params" in argv
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass
    try:
        args.func(args)
    except _known_errors() as err:
        print(f"bioner {args.cmd}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
