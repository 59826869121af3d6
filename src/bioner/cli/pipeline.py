"""`bioner` console command: every pipeline stage also runs alone, outside DVC (flags: cli_args)."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import shlex
import sys
from pathlib import Path

from .. import hints
from ..errors import UserError
from ..io.atomic import check_writable
from ..settings import settings as S
from ..settings.configs import CONFIGS, config_name
from .args import UsageError, build_parser, load_settings
from .model import cmd_evaluate, cmd_predict, cmd_publish, print_scores

log = logging.getLogger("bioner")


# ---------------------------------------------------------------------------------------------------------------
def cmd_fetch(args: argparse.Namespace) -> None:
    from ..data.sources import extra_files, fetch

    s = load_settings(args)
    check_writable(args.dest, "dir")
    extra = extra_files(s.data.silver, tuple(t.path for t in s.test_sets.values()))
    manifest = fetch(s.data.source, Path(args.dest), repo=s.data.repo, revision=s.data.revision,
                     sample_seed=s.data.sample_seed, extra=extra)
    n = len(manifest.get("files", {}))
    print(f"fetched {n} files from {s.data.source} into {args.dest}")


def cmd_silver(args: argparse.Namespace) -> None:
    from ..data.silver import write_subsets

    s = load_settings(args)
    check_writable(args.out, "dir")
    stats = write_subsets(args.data_dir, args.out, s.silver.subset_seed, s.entity_types)
    for r, st in stats["subsets"].items():
        print(f"silver ratio {r:>4}: {st['sentences']:>7} sentences  spans {st['spans']}")


def cmd_distant(args: argparse.Namespace) -> None:
    """The distant stage (keep | relabel), or with --score: a dictionary labelling scored against gold."""
    s = load_settings(args)
    if args.hash_inputs:
        from ..distant.inputs import write_stamp

        n = write_stamp(args.hash_inputs, s.distant, args.data_dir)
        print(f"{args.hash_inputs}: content hashes of {n} file(s) the distant settings name")
        return
    if args.score:
        from ..distant.inputs import content_hashes
        from ..distant.labelling import score_labelling
        from ..distant.stage import matcher_from_settings

        hashes = content_hashes(s.distant.dictionaries, s.distant.stop, args.data_dir)  # refuses a missing file
        for h in hashes.values():  # name what is scored: a wrong --data_dir shows here
            print(f"dictionary {h['setting']}: {h['path']} (sha256 {h['sha256'][:12]})")
        types = tuple(t.strip() for t in args.types.split(",")) if args.types else None
        res = score_labelling(args.score, matcher_from_settings(s.distant, s.sources.gold, args.data_dir), types)
        res["dictionaries"] = hashes
        print_scores({**res, "test_set": f"dictionary labelling of {args.score}", "annotated_types": res["types"]})
        if args.output:
            from ..io.atomic import write_json

            write_json(args.output, res)
            print(f"wrote {args.output}")
        return
    from ..distant.stage import run_stage

    m = run_stage(s.distant, args.data_dir, args.out, gold_types=s.sources.gold, metrics_path=args.metrics,
                  report_path=args.report, silver_files=s.data.silver, test_sets=s.test_sets,
                  corpus=None if s.corpus.source == "none" else Path(args.corpus_dir) / f"{s.corpus.name}.jsonl")
    spans = ", ".join(f"{k.removeprefix('silver_spans_')} {v}" for k, v in m.items() if k.startswith("silver_spans_"))
    print(f"distant.mode={s.distant.mode}: {args.out} written; silver spans: {spans}; metrics in {args.metrics}")


def cmd_corpus(args: argparse.Namespace) -> None:
    """The corpus stage (bioner.scrape): an unlabelled silver corpus from Entrez, PubMed XML or plain text."""
    from ..scrape.command import cmd_corpus as run

    run(args, load_settings(args))


#: back to the committed params.yaml after a rejected `dvc exp run -S`. Not `git checkout params.yaml`: DVC
#: rewrites the file and git's index during the run, and the index can end up with the rejected file's stat
#: under the committed content: git then sees no change (git status is clean) and restores nothing.
RESTORE_PARAMS = "git show HEAD:params.yaml > params.yaml && dvc checkout"


def cmd_validate(args: argparse.Namespace) -> None:
    """Every setting (schema, missing keys, backbone) checked without training: the pipeline's first stage."""
    from ..settings.backbones import check_backbone

    try:
        s = load_settings(args)
        check_backbone(s.backbone)
        if s.distant.mode == "relabel":
            from ..distant.inputs import check_settings_inputs

            check_settings_inputs(s.distant, s.data.source)
    except UserError as err:
        if not os.environ.get("DVC_STAGE"):
            raise
        # a failed `dvc exp run -S` leaves the bad value in params.yaml
        raise UserError(f"{str(err).rstrip('.')}. Nothing was run or deleted; params.yaml keeps the rejected "
                        f"value: rerun with a valid -S value, or restore the committed params: {RESTORE_PARAMS}"
                        ) from None
    if args.stamp:  # constant content: the stages after this one depend on it only to run after it
        from ..io.atomic import atomic_open

        with atomic_open(args.stamp) as fh:
            fh.write("every setting of params.yaml passed `bioner validate`\n")
    print(f"{args.params}: every setting is valid (strategy {s.strategy}, backbone {s.backbone}, seed {s.seed})")


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
    from ..settings.backbones import check_backbone

    if "LOCAL_RANK" not in os.environ:  # fail fast, before any data work, in the launching process only
        check_backbone(s.backbone)
    cmd = torchrun_command(s, args.argv)
    if cmd is not None:
        env = dict(os.environ)
        if s.train.cpu_threads != "auto":  # torchrun would otherwise set 1 thread per process
            env["OMP_NUM_THREADS"] = str(s.train.cpu_threads)
        log.info("train.launcher=torchrun: %s", shlex.join(cmd))
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)  # replace this process: signals and exit status are torchrun's
    if os.environ.get("RANK", "0") == "0":  # before the imports below, which take seconds
        log.info("training %s (strategy=%s, backbone=%s, seed=%d, lr=%g); loading torch and transformers ...",
                 config_name(s.strategy, s.backbone), s.strategy, s.backbone, s.seed, s.learning_rate)
    from ..training.run import train  # after the launch: the launching process needs no Trainer
    summary = train(s, args.output_dir, data_dir=args.data_dir, silver_dir=args.silver_dir,
                    work_dir=args.work_dir, live_dir=args.live_dir)
    if os.environ.get("RANK", "0") != "0":
        return  # one summary line per run, not one per torchrun process
    last = summary.get("phase2", summary["phase1"])
    best_model = Path(args.output_dir) / "best_model"
    print(f"best validation F1 {last['best_validation_f1']:.4f}; model in {best_model}")


#: what `bioner --help` says above the commands
DESCRIPTION = ("BioNER-DS: each stage of the DVC pipeline (dvc.yaml) as a command that also runs alone, plus "
               "predict, publish, report, grid and demo. `bioner COMMAND --help` lists a command's flags.")


def cmd_aggregate(args: argparse.Namespace) -> None:
    from ..study.run_metrics import write_run_metrics

    for d in (args.metrics_dir, args.plots_dir):
        check_writable(d, "dir")
    metrics = write_run_metrics(args.model_dir, args.metrics_dir, args.plots_dir,
                                test_sets=tuple(load_settings(args).test_sets))
    for key, value in metrics.items():
        print(f"  {key:<20} {value if isinstance(value, (int, str)) else format(value, '.4f')}")  # counts as counts
    m, pl = Path(args.metrics_dir), Path(args.plots_dir)
    print(f"wrote {m / 'metrics.json'}, {m / 'environment.json'}, {m / 'config_snapshot.yaml'}, "
          f"{pl / 'scaling_point.json'}")


def cmd_report(args: argparse.Namespace) -> None:
    from ..study.report import write_study_report

    rep = write_study_report(args.repo, out_dir=args.out_dir, plots_dir=args.plots_dir, all_commits=args.all_commits,
                 min_support=args.min_support)
    n = sum(len(g["experiments"]) for g in rep["groups"])
    print(f"{len(rep['groups'])} configurations from {n} experiments -> {args.out_dir}/aggregated_results.md/.json")
    if any(p.endswith("scaling_curve.png") for p in rep["written"]):
        print(f"scaling curve ({len(rep['scaling'])} silver ratios) -> {args.plots_dir}/scaling_curve.png/.json")
    else:
        found = f"found {len(rep['scaling'])}" if rep["scaling"] else "found no joint_uniform run"
        print(f"scaling curve: not drawn (needs >= 2 silver ratios of one joint_uniform configuration; {found})"
              + (f"; removed the older {', '.join(rep['removed'])}" if rep["removed"] else ""))
    for d in rep["duplicates"]:
        print(f"duplicate, counted once: {d['experiment']} = {d['duplicate_of']} ({d['group']}, seed {d['seed']})")
    for r in rep["repeated_seeds"]:
        print(f"seed {r['seed']} run {len(r['experiments'])} times with different metrics ({r['group']}): "
              + ", ".join(r["experiments"]))
    for c in rep["collapsed"]:
        print(f"collapsed run (predicts only O): {c['experiment']} ({c['group']})")
    for m in rep["mixed_environments"]:
        print(f"averaged over different environments ({m['group']}): "
              + "; ".join(f"{h}: {', '.join(names)}" for h, names in m["environments"].items()))
    for f in rep["failed"]:
        print(f"failed/incomplete: {f['experiment']} ({f['group']}): {f['reason']}")


def cmd_grid(args: argparse.Namespace) -> None:
    from ..study.grid import queue, start, study_points

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
    """Fetch the synthetic sample, train the tiny backbone (joint_uniform), score every test set it covers.

    Runs on the schema defaults, not ./params.yaml, so the demo is the same wherever it is started."""
    log.info("demo: %s on the synthetic sample, tiny backbone; loading torch and transformers ...", args.strategy)
    from ..data.sources import fetch
    from ..io.atomic import write_json
    from ..tagging.evaluation import evaluate
    from ..training.modeling import load_checkpoint
    from ..training.run import train

    work = Path(args.workdir)
    s = S.load(None, {"strategy": args.strategy, "backbone": "tiny", "seed": args.seed, "data.source": "sample",
                      "train.epochs": args.epochs})
    raw = work / "data" / "raw"
    fetch("sample", raw, repo=s.data.repo, revision=s.data.revision, sample_seed=s.data.sample_seed)
    print(f"sample corpus in {raw}; training tiny BERT ({s.strategy}, {args.epochs} epochs, lr {s.learning_rate})")
    train(s, work / "models", data_dir=raw, silver_dir=None, work_dir=work / "work")
    best = work / "models" / "best_model"
    load = functools.cache(functools.partial(load_checkpoint, best))
    for name, ts in s.test_sets.items():
        res = evaluate(best, ts, data_dir=raw, load=load)
        if res["applicable"]:  # the label-space rule: only test sets of types the model predicts
            write_json(work / "metrics" / "eval" / f"{name}.json", res)
            print_scores(res)


COMMANDS = {"validate": cmd_validate, "fetch": cmd_fetch, "silver": cmd_silver, "distant": cmd_distant,
            "corpus": cmd_corpus,
            "train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "publish": cmd_publish,
            "aggregate": cmd_aggregate, "report": cmd_report, "grid": cmd_grid, "demo": cmd_demo}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser(list(CONFIGS), DESCRIPTION).parse_args(argv)
    except UsageError as err:
        print(err, file=sys.stderr)
        return 2
    args.params_given = "--params" in argv
    args.argv = argv  # `train` re-runs this command line under torchrun when train.launcher=torchrun
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "httpx2", "httpcore", "urllib3", "filelock"):  # one INFO line per HTTP request
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # huggingface_hub prints through a handler of its own and also propagates to ours: every line twice
    logging.getLogger("huggingface_hub").propagate = False
    hints.use_command(getattr(args, "hint_flags", None))  # hints in this command's syntax (bioner.hints)
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
        COMMANDS[args.cmd](args)
    except (UserError, OSError) as err:  # OSError: a file missing, unreadable or unwritable (disk full)
        print(f"bioner {args.cmd}: error: {err}", file=sys.stderr)
        return 2
    finally:
        hints.use_command(None)  # in-process callers (tests, notebooks) get the library's default again
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
