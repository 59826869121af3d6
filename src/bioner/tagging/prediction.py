"""`bioner predict`: tag a JSONL or plain-text file with a trained checkpoint, streaming, one line out per input.

Input (format from `--format`, else the extension: .jsonl/.ndjson/.json -> jsonl, .txt/.text -> text, else the
first non-blank line decides: ``{`` -> jsonl):

* jsonl: one object per line with ``tokens`` (a list of strings); every other field is copied to the output.
  ``sentence_id`` is the record's ``sentence_id``, else its ``id``, else the 0-based line index, as a string.
* text: one sentence per line, split by textsplit.tokenize (``--tokenizer punct``, the default, splits every
  punctuation character like the training corpora; ``bio`` keeps SARS-CoV-2, IL-6, HIV-1, 5-fluorouracil
  whole). The line is copied to the output as ``text``; ``sentence_id`` is the 0-based line index.

One line out per line in: a blank line gives a record with no tokens and no predictions, so the N-th output
line always answers the N-th input line. Whitespace-only tokens ("", a tab) are tagged O and never join a span
(they are not shown to the model; their count is logged).

Output, one JSON line per input record, in input order::

    {"sentence_id": "0", "tokens": [...], "predictions": [{"entity": "SARS-CoV-2", "type": "Virus",
     "start_token": 1, "end_token": 1, "score": 0.94}], ...other input fields}

``start_token``/``end_token`` index ``tokens`` (``end_token`` inclusive). ``entity`` is the tokens joined by
spaces (jsonl) or the original text of the span (text), where ``start_char``/``end_char`` also give its character
span in ``text`` (``text[start_char:end_char] == entity``). Each word's label is the argmax at its first
sub-token; the label sequence is repaired to valid IOB2 (corpus.repair_iob2: an I-X that does not continue an
X span starts one) before spans are read. ``score`` is the mean over the span's words of the probability the
model gave its predicted label at the word's first sub-token (the same number as
``pipeline("token-classification", aggregation_strategy="first")``), rounded to 4 decimals.

The tagging is bioner.tagging.tagger.Tagger's (`bioner predict` is a thin shell over it). The output is written to a
temp file beside ``--output`` and renamed at the end: on any error no output file is left (an existing one is
untouched).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.corpus import has_blank, is_blank
from ..data.textsplit import DEFAULT_TOKENIZER, TOKENIZERS, tokenize_with_offsets
from ..errors import UserError
from ..io.atomic import atomic_open
from ..io.jsonl import json_object, line_error, text_lines
from .inference import DEFAULT_CHUNK_SIZE
from .tagger import Tagger, spans_of

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "text")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".txt": "text", ".text": "text"}


class PredictError(UserError, ValueError):
    """An input or output file that cannot be used; the message says which, where and how to fix it."""


@dataclass
class Record:
    """One input sentence."""

    sentence_id: str
    tokens: list[str]
    extra: dict[str, Any] = field(default_factory=dict)  # copied to the output
    text: str | None = None  # text mode: the line, for entity strings taken from the original text
    offsets: list[tuple[int, int]] | None = None  # text mode: character span of each token
    nbytes: int = 0  # bytes of input consumed up to and including this line (progress)


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """`fmt` if given, else from the extension, else from the first non-blank line."""
    if fmt:
        if fmt not in FORMATS:
            raise PredictError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    path = Path(path)
    if path.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[path.suffix.lower()]
    with _open_input(path) as fh:
        for raw in fh:
            if raw.strip():
                return "jsonl" if raw.lstrip().startswith((b"{", b"\xef\xbb\xbf{")) else "text"
    return "text"


def _open_input(path: Path):  # noqa: ANN202 - a binary file object
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise PredictError(f"{path}: input file not found. Fix: check the --input path") from None
    except IsADirectoryError:
        raise PredictError(f"{path}: is a directory. Fix: pass a .jsonl or .txt file as --input") from None
    except OSError as err:
        raise PredictError(f"{path}: cannot read the input ({err.strerror})") from None


def read_records(path: str | Path, fmt: str, tokenizer: str = DEFAULT_TOKENIZER) -> Iterator[Record]:
    """Stream the input's sentences (see the module docstring); errors name the file and line."""
    path = Path(path)
    if tokenizer not in TOKENIZERS:
        raise PredictError(f"unknown tokenizer {tokenizer!r}; use one of {', '.join(TOKENIZERS)}")
    with _open_input(path) as fh:
        try:
            for lineno, line, consumed in text_lines(fh, path, PredictError, keep_blank=True):
                if not line.strip():  # keeps one output line per input line
                    yield Record(str(lineno - 1), [], {"text": line.rstrip("\r\n")} if fmt == "text" else {},
                                 nbytes=consumed)
                    continue
                if fmt == "text":
                    text = line.rstrip("\r\n")
                    toks = tokenize_with_offsets(text, tokenizer)
                    yield Record(str(lineno - 1), [t for t, _, _ in toks], {"text": text}, text,
                                 [(a, b) for _, a, b in toks], consumed)
                else:
                    yield _json_record(path, lineno, line, consumed)
        except OSError as err:  # e.g. an I/O error half-way through a network file
            raise PredictError(f"{path}: cannot read the input ({err.strerror or err})") from None


def _json_record(path: Path, lineno: int, line: str, consumed: int) -> Record:
    rec = json_object(line, path, lineno, PredictError,
                      line_fix='one JSON object per line, e.g. {"tokens": ["IL-6", "levels"]} (or use --format text)',
                      example='write {"tokens": [...]} on each line')
    toks = rec.get("tokens")
    if not isinstance(toks, list) or not all(isinstance(t, str) for t in toks):
        problem = "missing field 'tokens'" if toks is None else "field 'tokens' must be a list of strings"
        raise line_error(PredictError, path, lineno, problem, 'every record needs "tokens": a list of strings '
                         "(for untokenized sentences use --format text)")
    sid = rec.get("sentence_id", rec.get("id"))
    extra = {k: v for k, v in rec.items() if k not in ("sentence_id", "tokens", "predictions")}
    return Record(str(lineno - 1) if sid is None else str(sid), toks, extra, nbytes=consumed)


def extract_spans(tokens: list[str], labels: list[str], scores: list[float], text: str | None = None,
                  offsets: list[tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Entity spans of one sentence as predict writes them: IOB2-repaired `labels` -> [{entity, type, start_token,
    end_token, score}] (+ start_char, end_char for text input); see bioner.tagging.tagger.spans_of."""
    return [s.to_dict() for s in spans_of(tokens, labels, scores, text, offsets)]


def _progress(total: int, enabled: bool | None) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc="predict", dynamic_ncols=True,
                disable=not (sys.stderr.isatty() if enabled is None else enabled))


def predict_file(
    checkpoint: str | Path | Tagger,
    input_path: str | Path,
    output_path: str | Path,
    *,
    fmt: str | None = None,
    tokenizer: str = DEFAULT_TOKENIZER,
    batch_size: int = 64,
    device: str | None = None,
    max_length: int | None = None,
    allow_pickle: bool = False,
    revision: str | None = None,
    quantize: str | None = None,
    precision: str = "fp32",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Tag `input_path` into `output_path` (module docstring) with a Tagger, or a checkpoint loaded after the
    input is found readable. Returns counts and throughput. `progress`: None = a bar only when stderr is a
    terminal."""
    input_path, output_path = Path(input_path), Path(output_path)
    with _open_input(input_path) as fh:  # fail before loading the model if the input cannot be read
        size = fh.seek(0, 2)
    fmt = detect_format(input_path, fmt)
    records = read_records(input_path, fmt, tokenizer)
    tagger = checkpoint if isinstance(checkpoint, Tagger) else Tagger.load(
        checkpoint, device=device, allow_pickle=allow_pickle, revision=revision, quantize=quantize, precision=precision,
        max_length=max_length)
    n_sent = n_tok = n_blank = 0
    types: Counter[str] = Counter()
    t0 = time.perf_counter()
    # a write error (full disk) is an OutputError naming output_path; input errors arrive as PredictError
    with atomic_open(output_path) as out, _progress(size, progress) as bar:
        done = 0
        for rec, spans in tagger.tag_records(records, batch_size=batch_size, chunk_size=chunk_size):
            row = {"sentence_id": rec.sentence_id, "tokens": rec.tokens,
                   "predictions": [s.to_dict() for s in spans], **rec.extra}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n_sent += 1
            n_tok += len(rec.tokens)
            if has_blank(rec.tokens):
                n_blank += sum(map(is_blank, rec.tokens))
            types.update(s.type for s in spans)
            bar.update(rec.nbytes - done)
            done = rec.nbytes
    seconds = time.perf_counter() - t0
    if n_sent == 0:
        log.warning("%s: no sentences (empty input); wrote an empty %s", input_path, output_path)
    if n_blank:
        log.warning("%s: %d whitespace-only token(s) tagged O (a token needs a visible character to be part "
                    "of an entity)", input_path, n_blank)
    return {"input": str(input_path), "output": str(output_path), "format": fmt, "sentences": n_sent,
            "tokens": n_tok, "blank_tokens": n_blank, "entities": dict(types), "seconds": round(seconds, 3),
            "sentences_per_second": round(n_sent / seconds, 1) if seconds > 0 else None,
            "device": str(tagger.device) + (f" ({tagger.quantize})" if tagger.quantize else "")
            + (f" ({tagger.precision})" if tagger.precision != "fp32" else "")}
