"""The `bioner` command line: subcommands, their flags, and the flag aliases of settings in one table."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from ..errors import UserError
from ..settings import settings as S
from ..settings.configs import config_overrides
from ..settings.labels import VIEW_FIELDS
from ..settings.settings import BACKBONES, defaults
from ..settings.strategies import STRATEGY_NAMES


class UsageError(UserError):
    """A command line argparse rejects (unknown flag, bad value): one line like every other error, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (`bioner CMD: error: ...`) instead of a usage block + message."""

    def error(self, message: str) -> NoReturn:  # noqa: D102
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


#: Every numeric flag that is not a setting, with what it allows: checked when the command line is parsed,
#: before any work (`--batch_size -1` would tag nothing and exit 0). The flags that set a setting
#: (FLAG_ALIASES: train's --epochs, --batch_size, ...) are validated by the settings schema like `-s key=value`.
NUMERIC_FLAGS: dict[str, tuple[type, int, str]] = {
    "batch_size": (int, 1, "an integer >= 1"),
    "max_length": (int, 3, "an integer >= 3 (sub-tokens per window, special tokens included)"),
    "min_support": (int, 0, "an integer >= 0"),
    "jobs": (int, 1, "an integer >= 1"),
}


def numeric(flag: str) -> Callable[[str], int | float]:
    """argparse `type` for `--flag`: its NUMERIC_FLAGS kind and lower bound; else one line naming the value."""
    kind, low, allowed = NUMERIC_FLAGS[flag]

    def parse(raw: str) -> int | float:
        try:
            value = kind(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not allowed; allowed: {allowed}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{raw} is not allowed; allowed: {allowed}")
        return value

    parse.__name__ = kind.__name__
    return parse

#: The seed-style shortcut flags of `bioner train` / `fetch`: flag -> (settings key, argparse options). Each is
#: a thin alias of `-s KEY=VALUE`; applied after --config and before every -s. Their help gets the setting's
#: default appended (`_from_params`).
FLAG_ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "strategy": ("strategy", {"choices": STRATEGY_NAMES, "help": "how gold and silver are mixed"}),
    "backbone": ("backbone", {"help": "alias (" + " | ".join(BACKBONES) + "), HF id or local path"}),
    "seed": ("seed", {"type": int, "help": "training seed: weight init and shuffling"}),
    "epochs": ("train.epochs", {"type": float, "help": "training epochs (a float)"}),
    "batch_size": ("train.batch_size", {"type": int, "help": "sentences per batch"}),
    "learning_rate": ("train.learning_rate", {"type": float, "help": "peak learning rate (the params file may "
                                                                     "say auto: by backbone family)"}),
    "ratio": ("silver.ratio", {"help": "silver:gold ratio: 1 | 2 | 4 | full"}),
    "source": ("data.source", {"help": "hub | sample | a local directory in the Hub layout"}),
}


def _from_params(what: str, key: str) -> str:
    """Help of a flag that overrides a setting: what it does and where its default comes from."""
    value: Any = defaults()
    for part in key.split("."):
        value = value[part]
    return f"{what} (default: {key} from the params file; {value} as shipped)"


def _add_params(p: argparse.ArgumentParser, *aliases: str, hidden: tuple[str, ...] = ()) -> None:
    p.add_argument("--params", default="params.yaml",
                   help="params file (default: ./params.yaml if present, else the built-in defaults)")
    p.add_argument("--set", "-s", action="append", metavar="KEY=VALUE",
                   help="override any setting, e.g. -s silver.ratio=2; repeatable, applied last (default: none)")
    for flag in (*aliases, *hidden):
        key, opts = FLAG_ALIASES[flag][0], dict(FLAG_ALIASES[flag][1])
        opts["help"] = argparse.SUPPRESS if flag in hidden else _from_params(opts["help"], key)
        p.add_argument(f"--{flag}", **opts)
    # error hints name these flags (`--backbone tiny`), and `-s KEY=VALUE` for the other settings (bioner.hints)
    p.set_defaults(hint_flags={FLAG_ALIASES[flag][0]: f"--{flag}" for flag in aliases})


def _sub(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    """A subcommand whose --help starts with the same one-line description `bioner --help` lists."""
    return sub.add_parser(name, help=text, description=text)


def build_parser(configs: list[str], doc: str | None = None) -> argparse.ArgumentParser:
    """The parser; each subcommand's name is `args.cmd`. `configs`: the names `--config` accepts.

    Every flag's help says what it does and its default (tests/test_cli.py checks)."""
    ap = _Parser(prog="bioner", description=doc)
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging (default: info)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    _add_validate(sub)
    _add_fetch(sub)
    _add_silver(sub)
    _add_corpus(sub)
    _add_distant(sub)
    _add_train(sub, configs)
    _add_evaluate(sub)
    _add_predict(sub)
    _add_publish(sub)
    _add_aggregate(sub)
    _add_report(sub)
    _add_grid(sub)
    _add_demo(sub)
    return ap


def _add_validate(sub: Any) -> None:
    p = _sub(sub, "validate", "check every setting (and that the backbone can load) without running anything; "
             "the pipeline's first stage, so a bad `dvc exp run -S` deletes nothing")
    _add_params(p)
    p.add_argument("--stamp", help="on success write this file, constant content (default: none)")


def _add_fetch(sub: Any) -> None:
    p = _sub(sub, "fetch", "materialise the five JSONL files in the Hub layout (from hub | sample | a directory)")
    _add_params(p, "source")
    p.add_argument("--dest", default="data/raw", help="directory to write (default: %(default)s)")


def _add_silver(sub: Any) -> None:
    p = _sub(sub, "silver", "nested silver subsets for ratios 1, 2, 4, full + stats.json")
    _add_params(p)
    p.add_argument("--data_dir", default="data/raw", help="fetched (or labelled) data (default: %(default)s)")
    p.add_argument("--out", default="data/silver", help="directory to write (default: %(default)s)")


def _add_corpus(sub: Any) -> None:
    p = _sub(sub, "corpus", "build an unlabelled silver corpus from NCBI Entrez, PubMed XML files or plain text "
             "(corpus.source; the API key from $NCBI_API_KEY) for the distant stage")
    _add_params(p)
    p.add_argument("--out", default="data/corpus", help="gets <corpus.name>.jsonl and .pmids (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/corpus.json", help="counts for dvc exp show (default: %(default)s)")
    p.add_argument("--data_dir", default="data/raw",
                   help="fetched data: sentences of its gold test files are removed (default: %(default)s)")
    p.add_argument("--cache_dir", default=".work/corpus",
                   help="fetched Entrez batches, so a killed run resumes (default: %(default)s)")


def _add_distant(sub: Any) -> None:
    p = _sub(sub, "distant", "label the fetched corpus from dictionaries (distant.mode=relabel) or keep its "
             "labels; --score: score the dictionaries against a gold file")
    _add_params(p)
    p.add_argument("--data_dir", default="data/raw",
                   help="fetched data; dictionary paths are relative to it (default: %(default)s)")
    p.add_argument("--out", default="data/labelled", help="labelled data dir, Hub layout (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/distant.json",
                   help="per-type counts for dvc exp show (default: %(default)s)")
    p.add_argument("--report", default="metrics/distant_report.json",
                   help="full label-quality report (default: %(default)s)")
    p.add_argument("--corpus_dir", default="data/corpus",
                   help="the corpus stage's output: with corpus.source other than none, its <corpus.name>.jsonl "
                   "joins the silver files (default: %(default)s)")
    p.add_argument("--score", metavar="GOLD.jsonl",
                   help="only score the dictionary labelling of this gold file, a path as given (not under "
                   "--data_dir) (default: none: run the stage)")
    p.add_argument("--types", help="with --score: the types the gold file annotates, e.g. Gene or Gene,Virus "
                   "(default: every type of the dictionaries)")
    p.add_argument("--output", help="with --score: also write the scores as JSON (default: print only)")
    p.add_argument("--hash_inputs", metavar="STAMP.json",
                   help="only write the content hashes of every file the distant settings name (relabel mode) to "
                   "this file: the stamp the `distant` stage depends on (default: none)")


def _add_train(sub: Any, configs: list[str]) -> None:
    p = _sub(sub, "train", "train one configuration: settings from the params file, then --config, then the "
             "flags below and -s; writes <output_dir>/best_model and config_snapshot.yaml")
    p.add_argument("--config", choices=configs,
                   help="one of the six seed configurations: sets strategy and backbone (default: none)")
    _add_params(p, "strategy", "backbone", "seed", "epochs", "batch_size", "learning_rate", "ratio",
                hidden=("source",))
    p.add_argument("--output_dir", default="models",
                   help="gets best_model/ and config_snapshot.yaml (default: %(default)s)")
    p.add_argument("--data_dir", default="data/raw",
                   help="BC5CDR and PubMed JSONL files in the Hub layout (default: %(default)s)")
    p.add_argument("--silver_dir", default="data/silver",
                   help="silver subsets from `bioner silver`; computed in memory if absent (default: %(default)s)")
    p.add_argument("--work_dir", default=None,
                   help="Trainer checkpoints, to resume a killed run (default: .<output_dir>_work beside it)")
    p.add_argument("--live_dir", default=None, help="dvclive directory for training curves (default: none)")


def _add_evaluate(sub: Any) -> None:
    p = _sub(sub, "evaluate", "score a checkpoint on named test sets or on any gold JSONL file (per entity and "
             "micro P/R/F1)")
    p.add_argument("--checkpoint", required=True, help="a model directory or a Hugging Face Hub model id")
    p.add_argument("--revision", help="Hub model ids only: branch, tag or commit sha (default: main)")
    _add_params(p)
    p.add_argument("--test_set", action="append",
                   help="a test set of evaluate.test_sets (bc5cdr, pubmed, ...; test_bc5cdr also accepted) to "
                   "score; repeat for several, scored in one process (default: every test set of the settings)")
    p.add_argument("--test_file", help="any gold JSONL (tokens + --field), gold only for --types (default: none)")
    p.add_argument("--field", choices=list(VIEW_FIELDS.values()),
                   help="--test_file: the gold label field (default: decoded_tags_pseudo_final)")
    p.add_argument("--types", help="--test_file: comma-separated types the file is gold for, e.g. Gene,Disease "
                   "(default: the types it contains); predictions of other types are set to O")
    p.add_argument("--data_dir", default="data/raw", help="fetched data (default: %(default)s)")
    p.add_argument("--output", help="JSON file to write, one test set or --test_file (default: print only)")
    p.add_argument("--output_dir", help="write <dir>/<test_set>.json for each test set (default: none)")
    p.add_argument("--conll", help="also write `token gold pred` lines (CoNLL conlleval's input) to this file "
                   "(default: none)")
    p.add_argument("--batch_size", type=numeric("batch_size"), default=64,
                   help="sentences per batch (default: %(default)s)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: cuda if available)")
    p.add_argument("--allow_pickle", action="store_true", help="allow loading pickle (.bin) weights (default: off)")


def _add_predict(sub: Any) -> None:
    p = _sub(sub, "predict", "tag a JSONL (tokens) or text (one sentence per line) file -> JSONL spans")
    p.add_argument("--checkpoint", required=True,
                   help="a trained model directory (models/best_model) or a Hugging Face Hub model id")
    p.add_argument("--revision", help="Hub model ids only: branch, tag or commit sha (default: main)")
    p.add_argument("--input", required=True, help=".jsonl with 'tokens' per line, or .txt, one sentence per line")
    p.add_argument("--output", required=True, help="JSONL: sentence_id, tokens, predictions (+ input fields)")
    p.add_argument("--format", choices=["jsonl", "text"],
                   help="input format (default: from the extension / first line)")
    p.add_argument("--tokenizer", choices=["bio", "punct"], default="punct",
                   help="text format: punct splits all punctuation, as the training corpora do (spans still "
                        "cover SARS-CoV-2 whole); bio keeps SARS-CoV-2, IL-6 one token, for models trained so "
                        "(default: %(default)s)")
    p.add_argument("--batch_size", type=numeric("batch_size"), default=64,
                   help="sentences per batch (default: %(default)s)")
    p.add_argument("--max_length", type=numeric("max_length"), default=None,
                   help="sub-tokens per window (default: the model's limit); longer sentences are windowed")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: cuda if available)")
    p.add_argument("--allow_pickle", action="store_true", help="allow loading pickle (.bin) weights (default: off)")
    p.add_argument("--quantize", choices=["int8"],
                   help="int8: dynamic int8 quantization of the encoder's Linear layers, CPU only; "
                   "docs/benchmarks.md has its speed and F1 (default: none, fp32)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="bf16: the model in bfloat16, only on a GPU with bf16 or a CPU with AVX512-BF16/AMX "
                   "(refused elsewhere); docs/benchmarks.md s.5 (default: %(default)s)")
    p.add_argument("--memory", choices=["bounded", "fast"], default="bounded",
                   help="bounded: glibc's mmap threshold fixed, so memory stays flat over any input (a slower "
                   "forward pass); fast: glibc's adaptive threshold, which grows the heap after long sentences; "
                   "figures in docs/benchmarks.md s.4. A MALLOC_MMAP_THRESHOLD_ you set wins (default: "
                   "%(default)s)")


def _add_publish(sub: Any) -> None:
    p = _sub(sub, "publish", "upload a checkpoint + generated model card to the Hugging Face Hub, as one commit")
    p.add_argument("--checkpoint", default="models/best_model", help="model directory (default: %(default)s)")
    p.add_argument("--repo", required=True, help="Hub model repo id, owner/name")
    p.add_argument("--private", action="store_true", help="create the repo private if it does not exist "
                   "(default: public)")
    p.add_argument("--revision", help="branch to commit to, created if missing (default: main)")
    p.add_argument("--config_snapshot", help="the run's settings (default: config_snapshot.yaml beside the "
                   "checkpoint)")
    p.add_argument("--metrics", help="this run's metrics.json (bioner aggregate), for the card's test scores "
                   "(default: none)")
    p.add_argument("--report", help="bioner report's aggregated_results.json: mean +- std over seeds in the card "
                   "(default: none)")
    p.add_argument("--message", help="commit message (default: generated)")


def _add_aggregate(sub: Any) -> None:
    p = _sub(sub, "aggregate", "flat metrics.json for dvc exp show, config snapshot, scaling point")
    _add_params(p)
    p.add_argument("--model_dir", default="models",
                   help="holds config_snapshot.yaml from bioner train (default: %(default)s)")
    p.add_argument("--metrics_dir", default="metrics",
                   help="holds eval/<test set>.json and distant.json; gets metrics.json (default: %(default)s)")
    p.add_argument("--plots_dir", default="plots", help="gets scaling_point.json (default: %(default)s)")


def _add_report(sub: Any) -> None:
    p = _sub(sub, "report", "mean ± std per configuration across seeds (from dvc exp show), scaling curve PNG")
    p.add_argument("--repo", default=".", help="the DVC repository (default: %(default)s)")
    p.add_argument("--out_dir", default="metrics", help="gets aggregated_results.md/.json (default: %(default)s)")
    p.add_argument("--plots_dir", default="plots", help="gets scaling_curve.png/.json (default: %(default)s)")
    p.add_argument("--all_commits", action="store_true",
                   help="include experiments of every commit (default: the current commit's)")
    p.add_argument("--min_support", type=numeric("min_support"), default=10,
                   help="entities with fewer gold spans are N/A in the Markdown (default: %(default)s)")


def _add_grid(sub: Any) -> None:
    p = _sub(sub, "grid", "queue the study (configs x seeds, ratios x seeds) as DVC experiments")
    p.add_argument("--study", choices=["all", "configs", "ratios"], default="all",
                   help="which part of the study (default: %(default)s)")
    p.add_argument("--seeds", default="42,1337,2024", help="comma list of seeds (default: %(default)s)")
    p.add_argument("--backbone", help="backbone for configs 4-6 and the ratio study (default: the seed's)")
    p.add_argument("--single_source_backbones", help="comma list compared by the single-source configs, "
                   "e.g. tiny,minilm (default: configs 1-3 with the seed's backbones)")
    p.add_argument("--ratios", default="1,2,4", help="silver ratios of the ratio study (default: %(default)s)")
    p.add_argument("--prefix", default="", help="prefix of the experiment names (default: none)")
    p.add_argument("--set", "-S", action="append", metavar="KEY=VALUE",
                   help="extra -S for every experiment, repeatable (default: none)")
    p.add_argument("--dry_run", action="store_true", help="print the commands, queue nothing (default: off)")
    p.add_argument("--run", action="store_true", help="start the queue, wait until it is empty, then stop its "
                   "workers (dvc queue stop) (default: off: queue only)")
    p.add_argument("-j", "--jobs", type=numeric("jobs"), default=1,
                   help="experiments at once with --run (default: %(default)s)")


def _add_demo(sub: Any) -> None:
    p = _sub(sub, "demo", "offline end-to-end demo on the synthetic sample with the tiny backbone")
    p.add_argument("--workdir", default="scratch/demo", help="everything goes here (default: %(default)s)")
    p.add_argument("--strategy", default="joint_uniform", choices=STRATEGY_NAMES,
                   help="how gold and silver are mixed (default: %(default)s)")
    p.add_argument("--epochs", type=float, default=3, help="training epochs (default: %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="training seed (default: %(default)s)")


def load_settings(args: argparse.Namespace) -> S.Settings:
    """settings.load() with this command line: --params (./params.yaml if present, else the defaults), then
    --config, the flag aliases (cli_args.FLAG_ALIASES) and every -s KEY=VALUE, in that order."""
    path: Path | None = Path(args.params)
    if not args.params_given and not path.is_file():
        path = None
    overrides: list[tuple[str, Any]] = []
    if getattr(args, "config", None):
        overrides += config_overrides(args.config).items()
    for flag, (key, _) in FLAG_ALIASES.items():
        if getattr(args, flag, None) is not None:
            overrides.append((key, getattr(args, flag)))
    overrides += [S.parse_override(item) for item in getattr(args, "set", None) or []]
    return S.load(path, overrides)
