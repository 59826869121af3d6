"""Plain-text tokenizers for `bioner predict --format text` (one sentence per line).

Two rules, chosen with `--tokenizer`:

``bio`` (default) keeps biomedical names whole and splits other punctuation. A token is either

* a *word*: letters/digits (any script, so ``α``, ``β``, ``μg`` count) joined by an inner hyphen
  (``-``, U+2010, U+2011) or, between two digits, by ``.`` or ``,`` -- so ``SARS-CoV-2``, ``IL-6``,
  ``HIV-1``, ``COVID-19``, ``5-fluorouracil``, ``TNF-α``, ``N-methyl-D-aspartate``, ``1,25-dihydroxyvitamin``,
  ``0.05`` are one token each (so are ordinary compounds: ``dose-dependent``, ranges: ``10-20``);
* any other non-space character, alone: ``(``, ``)``, ``,``, ``;``, ``:``, ``/``, ``'``, ``+``, ``%``, a
  final ``.``, a hyphen that does not join two word characters (``pre- and post-``) ... -- so ``HIV-1/AIDS``
  is ``HIV-1 / AIDS``, ``CD4+`` is ``CD4 +`` (the entity is ``CD4``) and ``Parkinson's`` is ``Parkinson ' s``.

``punct`` splits every punctuation character, like the BC5CDR/PubTator tokenization of the training data
(``SARS - CoV - 2``, ``5 - fluorouracil``, ``Parkinson ' s``). Prefer it when the model was trained on such
tokens and span boundaries must match the corpus convention; ``bio`` gives one token per name, which is what
a knowledge-graph build usually wants. The model tags words, so either way every sub-token is seen.

Hand-written (one regular expression) because the library tokenizers at hand either split every hyphen
(BERT's pre-tokenizer, ``punct`` above) or need a model download (scispaCy); neither gives the rule above.
"""

from __future__ import annotations

import re

_WORD = r"[^\W_]+"
_JOIN = r"(?:[-\u2010\u2011]|(?<=\d)[.,](?=\d))"
BIO_TOKEN = re.compile(rf"{_WORD}(?:{_JOIN}{_WORD})*|\S", re.UNICODE)
PUNCT_TOKEN = re.compile(rf"{_WORD}|\S", re.UNICODE)

TOKENIZERS = ("bio", "punct")


def _pattern(rule: str) -> re.Pattern[str]:
    if rule == "bio":
        return BIO_TOKEN
    if rule == "punct":
        return PUNCT_TOKEN
    raise ValueError(f"unknown tokenizer {rule!r}; use one of {', '.join(TOKENIZERS)}")


def tokenize(text: str, rule: str = "bio") -> list[str]:
    """Split one sentence into tokens with `rule` (``bio`` or ``punct``, see the module docstring)."""
    return _pattern(rule).findall(text)


def tokenize_with_offsets(text: str, rule: str = "bio") -> list[tuple[str, int, int]]:
    """Like `tokenize`, with each token's character span [start, end) in `text`."""
    return [(m.group(), m.start(), m.end()) for m in _pattern(rule).finditer(text)]
