"""The model-facing commands of `bioner` (a trained checkpoint in, scores/tags/a Hub repo out): evaluate,
predict, publish, and the score table they print. `bioner.cli` dispatches to them and re-exports each."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from ..errors import UserError
from ..io.atomic import check_writable
from ..settings.labels import COLUMNS, canonical_test_set


def print_scores(res: dict) -> None:
    print(f"{res.get('test_set') or res['file']}: {res['sentences']} sentences, "
          f"types {', '.join(res['annotated_types'])}")
    heads = {"precision": "P", "recall": "R", "f1": "F1"}
    print(f"  {'entity':<10} " + " ".join(f"{heads.get(c, c):>{8 if c == 'support' else 7}}" for c in COLUMNS))
    for t, row in [*res["per_entity"].items(), ("micro", res["micro"])]:
        print(f"  {t:<10} " + " ".join(f"{row[c]:8d}" if c == "support" else f"{row[c]:7.4f}" for c in COLUMNS))


def _types_flag(raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    types = tuple(t.strip() for t in raw.split(","))
    if not all(types):
        raise UserError(f"--types {raw!r}: expected comma-separated entity types, e.g. --types Gene,Disease")
    return types


def cmd_evaluate(args: argparse.Namespace) -> None:
    """A thin shell over Tagger.evaluate: named test sets of the settings (--test_set, repeatable; default all of
    evaluate.test_sets) or any gold file (--test_file)."""
    if args.test_set and args.test_file:
        raise UserError("give --test_set NAME (repeatable) or --test_file PATH, not both")
    table = {} if args.test_file else _test_sets(args)
    test_sets = [table[n] for n in dict.fromkeys(canonical_test_set(n) for n in args.test_set or table)]
    if args.output and args.output_dir:
        raise UserError("give --output (one test set) or --output_dir (<test_set>.json each), not both")
    if args.output and len(test_sets) > 1:
        raise UserError(f"--output names one file but {len(test_sets)} test sets were given; "
                        "use --output_dir to write <test_set>.json for each")
    if args.conll and len(test_sets) > 1:
        raise UserError(f"--conll names one file but {len(test_sets)} test sets were given; score one at a time")
    outputs = [args.output or (Path(args.output_dir) / f"{ts.name}.json" if args.output_dir else None)
               for ts in test_sets]
    # a bad output path fails now, not after loading and tagging
    for out in filter(None, [*outputs, args.conll] if test_sets else [args.output, args.conll]):
        check_writable(out)
    from ..tagging.evaluation import evaluate
    from ..tagging.scoring import evaluate_file
    from ..tagging.tagger import Tagger

    def load() -> Tagger:
        return Tagger.load(args.checkpoint, device=args.device, allow_pickle=args.allow_pickle,
                           revision=args.revision)

    if args.test_file:
        if args.output_dir:
            raise UserError("--output_dir is for --test_set; with --test_file use --output FILE")
        from ..data.corpus import load_corpus
        from ..settings.labels import FIELD_FULL
        from ..tagging.scoring import check_types

        field = args.field or FIELD_FULL
        types = _types_flag(args.types)
        if types is not None:
            check_types(types)  # flag errors before reading the file or loading the model
        corpus = load_corpus(args.test_file, field)  # file errors (file:line) before loading the model
        res = evaluate_file(load(), args.test_file, types=types, field=field, batch_size=args.batch_size,
                            output=args.output, conll=args.conll, corpus=corpus)
        print_scores(res)
        for path in (args.output, args.conll):
            if path:
                print(f"wrote {path}")
        return
    if args.field or args.types:
        raise UserError("--field/--types are for --test_file; a named test set has its own view and types "
                        "(evaluate.test_sets)")
    # several test sets in one process, one checkpoint load: the torch import is paid once (docs/benchmarks.md s.6)
    cached = functools.cache(load)
    for ts, out in zip(test_sets, outputs, strict=True):
        res = evaluate(args.checkpoint, ts, data_dir=args.data_dir, output=out, batch_size=args.batch_size,
                       device=args.device, load=cached, conll=args.conll)
        print_scores(res)
        for path in (out, args.conll):
            if path:
                print(f"wrote {path}")


def _test_sets(args: argparse.Namespace) -> dict:
    """evaluate.test_sets of the settings, by name; an unknown --test_set is a one-line error."""
    from .args import load_settings

    table = load_settings(args).test_sets
    unknown = [n for n in args.test_set or [] if canonical_test_set(n) not in table]
    if unknown:
        raise UserError(f"--test_set {unknown[0]!r}: not in evaluate.test_sets; allowed: {', '.join(table)}")
    return table


def cmd_predict(args: argparse.Namespace) -> None:
    """A thin shell over Tagger (bioner.tagging.prediction.predict_file streams the file through it)."""
    check_writable(args.output)  # before loading the model and tagging the whole input
    from ..tagging.memory import fix_mmap_threshold
    from ..tagging.prediction import predict_file

    if args.memory == "bounded":
        fix_mmap_threshold()

    res = predict_file(args.checkpoint, args.input, args.output, fmt=args.format, tokenizer=args.tokenizer,
                       batch_size=args.batch_size, device=args.device, max_length=args.max_length,
                       allow_pickle=args.allow_pickle, revision=args.revision, quantize=args.quantize,
                       precision=args.precision)
    ents = ", ".join(f"{t} {n}" for t, n in sorted(res["entities"].items())) or "none"
    print(f"tagged {res['sentences']} sentences ({res['format']}, {res['sentences_per_second']} sentences/s "
          f"on {res['device']}); entities: {ents}; wrote {res['output']}")


def cmd_publish(args: argparse.Namespace) -> None:
    """A checkpoint + a generated model card -> a Hugging Face Hub model repo, in one commit."""
    from ..tagging.publish import publish

    res = publish(args.checkpoint, args.repo, private=args.private, revision=args.revision,
                  snapshot=args.config_snapshot, metrics=args.metrics, report=args.report,
                  commit_message=args.message)
    print(f"published {len(res['files'])} files ({', '.join(res['files'])}) to {res['repo']} "
          f"(revision {res['revision']}, commit {res['commit']}); load it with "
          f"Tagger.load({res['repo']!r}) or bioner predict --checkpoint {res['repo']}")
