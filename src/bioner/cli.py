"""`bioner` console command: every pipeline stage also runs alone, outside DVC."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import yaml

from . import settings as S

log = logging.getLogger("bioner")


class UserError(Exception):
    """Raised for problems the user can fix; printed as one line, exit code 2."""


#: Error classes printed as one line (module, class). Looked up only in modules already imported: an error of a
#: module that was never imported cannot have been raised, and importing bioner.modeling (torch, transformers)
#: just to name its error would add seconds to every `bioner fetch`.
_ERROR_CLASSES = (("bioner.corpus", "CorpusError"), ("bioner.modeling", "BackboneError"),
                  ("bioner.sources", "FetchError"), ("bioner.aggregate", "AggregateError"),
                  ("bioner.report", "ReportError"))


def _known_errors() -> tuple[type[BaseException], ...]:
    # OSError: a file that is missing, unreadable or cannot be written (disk full): one line, not a traceback
    errs: list[type[BaseException]] = [S.SettingsError, UserError, OSError]
    for module, name in _ERROR_CLASSES:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            errs.append(cls)
    return tuple(errs)


def _parse_value(raw: str) -> Any:
    """`-s key=value` values parse as YAML scalars (1e-3, true, 4, full)."""
    return yaml.safe_load(raw)


def load_settings(args: argparse.Namespace) -> S.Settings:
    """params.yaml (or defaults when absent and not asked for) + --config + explicit flags -> Settings."""
    path = Path(args.params)
    missing: list[str] = []
    if path.is_file():
        params = S.read_params(path, require_all=False)  # YAML and mapping checks
        missing = S.missing_keys(params)  # every schema key must be listed; reported after bad values
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
    settings = S.from_dict(params)
    if missing:
        raise S.missing_keys_error(path, missing)
    return settings


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


def torchrun_command(s: S.Settings, argv: list[str]) -> list[str] | None:
    """`train.launcher: torchrun`: this same `bioner` command line, run by torchrun in train.nproc processes.

    None when the launcher is `none` or this process already runs under torchrun (LOCAL_RANK is set: one of
    the workers, or a multi-node job started with torchrun by hand). `--standalone` lets torchrun pick a free
    port, so parallel experiments (`dvc queue start -j N`) never collide; the environment variable
    BIONER_TORCHRUN_ARGS replaces it with rendezvous options for several nodes (docs/scaling.md).
    """
    if s.train.launcher != "torchrun" or "LOCAL_RANK" in os.environ:
        return None
    rdzv = shlex.split(os.environ.get("BIONER_TORCHRUN_ARGS", "")) or ["--standalone"]
    # `python -m torch.distributed.run` is torchrun from this interpreter's environment (the venv's torch)
    return [sys.executable, "-m", "torch.distributed.run", *rdzv, f"--nproc-per-node={s.train.nproc}",
            "-m", "bioner.cli", *argv]


def cmd_train(args: argparse.Namespace) -> None:
    s = load_settings(args)
    from .modeling import check_backbone

    check_backbone(s.backbone)  # before any data work, and once rather than once per torchrun process
    cmd = torchrun_command(s, args.argv)
    if cmd is not None:
        env = dict(os.environ)
        if s.train.cpu_threads != "auto":  # torchrun would otherwise set 1 thread per process
            env["OMP_NUM_THREADS"] = str(s.train.cpu_threads)
        log.info("train.launcher=torchrun: %s", shlex.join(cmd))
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)  # replace this process: signals and exit status are torchrun's
    from .training import train  # after the launch: the launching process needs no Trainer
    if os.environ.get("RANK", "0") == "0":
        log.info("training %s (strategy=%s, backbone=%s, seed=%d, lr=%g)",
                 S.config_name(s.strategy, s.backbone), s.strategy, s.backbone, s.seed, s.learning_rate)
    summary = train(s, args.output_dir, data_dir=args.data_dir, silver_dir=args.silver_dir,
                    work_dir=args.work_dir, live_dir=args.live_dir)
    if os.environ.get("RANK", "0") != "0":
        return  # one summary line per run, not one per torchrun process
    last = summary.get("phase2", summary["phase1"])
    best_model = Path(args.output_dir) / "best_model"
    print(f"best validation F1 {last['best_validation_f1']:.4f}; model in {best_model}")


def print_scores(res: dict) -> None:
    print(f"{res['test_set']}: {res['sentences']} sentences, types {', '.join(res['annotated_types'])}")
    print(f"  {'entity':<10} {'P':>7} {'R':>7} {'F1':>7} {'support':>8}")
    for t, row in [*res["per_entity"].items(), ("micro", res["micro"])]:
        print(f"  {t:<10} {row['precision']:7.4f} {row['recall']:7.4f} {row['f1']:7.4f} {row['support']:8d}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    test_sets = list(dict.fromkeys(args.test_set))  # repeatable; order kept, repeats dropped
    if args.output and args.output_dir:
        raise UserError("give --output (one test set) or --output_dir (eval_<test_set>.json each), not both")
    if args.output and len(test_sets) > 1:
        raise UserError(f"--output names one file but {len(test_sets)} test sets were given; "
                        "use --output_dir to write eval_<test_set>.json for each")
    from .evaluation import evaluate
    from .modeling import load_checkpoint

    # several test sets in one process: the pipeline's evaluate stage paid the torch import (~6 s) once per set
    load = functools.cache(functools.partial(load_checkpoint, args.checkpoint, allow_pickle=args.allow_pickle))
    for ts in test_sets:
        out = args.output or (Path(args.output_dir) / f"eval_{ts}.json" if args.output_dir else None)
        res = evaluate(args.checkpoint, ts, data_dir=args.data_dir, output=out, batch_size=args.batch_size,
                       device=args.device, load=load)
        print_scores(res)
        if out:
            print(f"wrote {out}")


def cmd_predict(args: argparse.Namespace) -> None:
    from .prediction import predict_file

    res = predict_file(args.checkpoint, args.input, args.output, fmt=args.format, tokenizer=args.tokenizer,
                       batch_size=args.batch_size, device=args.device, max_length=args.max_length,
                       allow_pickle=args.allow_pickle)
    ents = ", ".join(f"{t} {n}" for t, n in sorted(res["entities"].items())) or "none"
    print(f"tagged {res['sentences']} sentences ({res['format']}, {res['sentences_per_second']} sentences/s "
          f"on {res['device']}); entities: {ents}; wrote {res['output']}")


def cmd_aggregate(args: argparse.Namespace) -> None:
    from .aggregate import AggregateError, aggregate

    try:
        metrics = aggregate(args.model_dir, args.metrics_dir, args.plots_dir)
    except AggregateError as err:
        raise UserError(str(err)) from None
    for key, value in metrics.items():
        print(f"  {key:<20} {value:.4f}")
    m, pl = Path(args.metrics_dir), Path(args.plots_dir)
    print(f"wrote {m / 'metrics.json'}, {m / 'config_snapshot.yaml'}, {pl / 'scaling_point.json'}")


def cmd_report(args: argparse.Namespace) -> None:
    from .report import report

    rep = report(args.repo, out_dir=args.out_dir, plots_dir=args.plots_dir, all_commits=args.all_commits,
                 min_support=args.min_support)
    n = sum(len(g["experiments"]) for g in rep["groups"])
    print(f"{len(rep['groups'])} configurations from {n} experiments -> {args.out_dir}/aggregated_results.md/.json")
    if rep.get("scaling"):
        print(f"scaling curve ({len(rep['scaling'])} ratios) -> {args.plots_dir}/scaling_curve.png")
    for c in rep["collapsed"]:
        print(f"collapsed run (predicts only O): {c['experiment']} ({c['group']})")
    for f in rep["failed"]:
        print(f"failed/incomplete: {f['experiment']} ({f['group']}): {f['reason']}")


def cmd_grid(args: argparse.Namespace) -> None:
    from .grid import queue, start, study_points

    seeds = [int(x) for x in args.seeds.split(",")]
    ss = args.single_source_backbones.split(",") if args.single_source_backbones else None
    pts = study_points(seeds, args.study, backbone=args.backbone, single_source_backbones=ss,
                       ratios=tuple(args.ratios.split(",")), prefix=args.prefix)
    cmds = queue(pts, args.set or [], dry_run=args.dry_run)
    print("\n".join(cmds))
    print(f"{'would queue' if args.dry_run else 'queued'} {len(cmds)} experiments")
    if args.run and not args.dry_run:
        start(args.jobs)
        print("queue finished; now: bioner report")


def cmd_demo(args: argparse.Namespace) -> None:
    """Fetch the synthetic sample, train the tiny backbone (joint_uniform), score both test sets."""
    from .evaluation import evaluate
    from .modeling import load_checkpoint
    from .sources import fetch
    from .training import train

    work = Path(args.workdir)
    s = S.from_dict({"strategy": args.strategy, "backbone": "tiny", "seed": args.seed,
                     "data": {"source": "sample"}, "train": {"epochs": args.epochs}})
    raw = work / "data" / "raw"
    fetch("sample", raw, repo=s.data.repo, revision=s.data.revision, sample_seed=s.data.sample_seed)
    print(f"sample corpus in {raw}; training tiny BERT ({s.strategy}, {args.epochs} epochs, lr {s.learning_rate})")
    train(s, work / "models", data_dir=raw, silver_dir=None, work_dir=work / "work")
    best = work / "models" / "best_model"
    load = functools.cache(functools.partial(load_checkpoint, best))
    for ts in ("test_bc5cdr", "test_pubmed") if s.scheme.name == "9tag" else ("test_bc5cdr",):
        res = evaluate(best, ts, data_dir=raw, output=work / "metrics" / f"eval_{ts}.json", load=load)
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

    p = sub.add_parser("evaluate", help="score a checkpoint on one or more test sets")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--test_set", required=True, action="append", choices=["test_bc5cdr", "test_pubmed"],
                   help="repeat for several test sets (scored in one process)")
    p.add_argument("--data_dir", default="data/raw")
    p.add_argument("--output", help="JSON file to write (one test set)")
    p.add_argument("--output_dir", help="write <dir>/eval_<test_set>.json for each test set")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--device", default=None)
    p.add_argument("--allow_pickle", action="store_true", help="allow loading pickle (.bin) weights")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="tag a JSONL (tokens) or text (one sentence per line) file -> JSONL spans")
    p.add_argument("--checkpoint", required=True, help="a trained model directory, e.g. models/best_model")
    p.add_argument("--input", required=True, help=".jsonl with 'tokens' per line, or .txt, one sentence per line")
    p.add_argument("--output", required=True, help="JSONL: sentence_id, tokens, predictions (+ input fields)")
    p.add_argument("--format", choices=["jsonl", "text"], help="default: from the extension / first line")
    p.add_argument("--tokenizer", choices=["bio", "punct"], default="bio",
                   help="text format: bio keeps SARS-CoV-2, IL-6 whole; punct splits all punctuation")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--max_length", type=int, default=None,
                   help="sub-tokens per window (default: the model's limit); longer sentences are windowed")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: cuda if available)")
    p.add_argument("--allow_pickle", action="store_true", help="allow loading pickle (.bin) weights")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("aggregate", help="flat metrics.json for dvc exp show, config snapshot, scaling point")
    p.add_argument("--model_dir", default="models", help="holds config_snapshot.yaml (from bioner train)")
    p.add_argument("--metrics_dir", default="metrics", help="holds eval_<test set>.json; gets metrics.json")
    p.add_argument("--plots_dir", default="plots", help="gets scaling_point.json")
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("report", help="mean +- std per config across seeds (dvc exp show), scaling curve PNG")
    p.add_argument("--repo", default=".")
    p.add_argument("--out_dir", default="metrics")
    p.add_argument("--plots_dir", default="plots")
    p.add_argument("--all_commits", action="store_true", help="include experiments of every commit")
    p.add_argument("--min_support", type=int, default=10, help="entities with fewer gold spans: N/A in Markdown")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("grid", help="queue the study (configs x seeds, ratios x seeds) as DVC experiments")
    p.add_argument("--study", choices=["all", "configs", "ratios"], default="all")
    p.add_argument("--seeds", default="42,1337,2024")
    p.add_argument("--backbone", help="backbone for configs 4-6 and the ratio study (default: the seed's)")
    p.add_argument("--single_source_backbones", help="comma list compared by the single-source configs, "
                   "e.g. tiny,minilm (default: configs 1-3 with the seed's backbones)")
    p.add_argument("--ratios", default="1,2,4")
    p.add_argument("--prefix", default="", help="prefix of the experiment names")
    p.add_argument("--set", "-S", action="append", metavar="KEY=VALUE", help="extra -S for every experiment")
    p.add_argument("--dry_run", action="store_true")
    p.add_argument("--run", action="store_true", help="start the queue and wait for it")
    p.add_argument("-j", "--jobs", type=int, default=1)
    p.set_defaults(func=cmd_grid)

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
    args.argv = argv  # `train` re-runs this command line under torchrun when train.launcher=torchrun
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "httpx2", "httpcore", "urllib3", "filelock"):  # one INFO line per HTTP request
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if "transformers" in sys.modules:  # already imported (in-process use): configure it directly
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        if not sys.stderr.isatty():
            hf_logging.disable_progress_bar()  # no 'Loading weights' / 'Writing model shards' bars in logs
    else:  # the same through the environment, read if and when transformers is imported: importing it here
        # would add seconds to the commands that never use it (fetch, silver, aggregate, report)
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        if not sys.stderr.isatty():
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        args.func(args)
    except Exception as err:
        if not isinstance(err, _known_errors()):
            raise
        print(f"bioner {args.cmd}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
