"""Raw text is split like the training corpora by default (`punct`): on the BC5CDR test as raw text it scored
the pre-tokenised F1, `bio` 0.033 below (docs/benchmarks.md, raw-text tokenizers). `bio` stays available."""

from __future__ import annotations

import inspect
from pathlib import Path

from bioner.cli.args import build_parser
from bioner.data.textsplit import DEFAULT_TOKENIZER, tokenize
from bioner.tagging.prediction import predict_file, read_records
from bioner.tagging.tagger import Tagger


def test_the_default_is_punct_everywhere() -> None:
    assert DEFAULT_TOKENIZER == "punct"
    assert build_parser([]).parse_args(["predict", "--checkpoint", "m", "--input", "i", "--output", "o"]) \
        .tokenizer == "punct"
    for fn in (Tagger.predict, Tagger.stream, predict_file, read_records, tokenize):
        params = inspect.signature(fn).parameters
        assert (params.get("tokenizer") or params["rule"]).default == "punct", fn


def test_a_text_line_is_split_at_every_hyphen(tmp_path: Path) -> None:
    inp = tmp_path / "in.txt"
    inp.write_text("Cisplatin-induced nephrotoxicity in SARS-CoV-2 patients.\n", encoding="utf-8")
    (rec,) = read_records(inp, "text")
    assert rec.tokens[:3] == ["Cisplatin", "-", "induced"] and rec.tokens[5:10] == ["SARS", "-", "CoV", "-", "2"]
    assert [t for t in tokenize("IL-6 rose", "bio")] == ["IL-6", "rose"]  # the other rule on request
