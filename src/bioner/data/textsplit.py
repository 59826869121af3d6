"""Plain-text tokenizers for `bioner predict --format text` (one sentence per line).

Two rules, chosen with `--tokenizer` (default: ``punct``, `DEFAULT_TOKENIZER`):

``punct`` splits every punctuation character, like the BC5CDR/PubTator tokenization of the training data
(``SARS - CoV - 2``, ``5 - fluorouracil``, ``Cisplatin - induced``). The models are trained on such tokens, so
it scores best on raw text (docs/benchmarks.md, raw-text tokenizers: it matched the pre-tokenised F1, ``bio``
lost 0.033 on the BC5CDR test, mostly spans such as ``Cisplatin`` in ``Cisplatin-induced``); a span's
`start_char`/`end_char` still cover a name tagged over several tokens (``SARS-CoV-2``) whole.

``bio`` keeps biomedical names whole and splits other punctuation: for a model trained on such tokens. A token
is either

* a *word*: letters/digits (any script, so ``α``, ``β``, ``μg`` count) joined by an inner hyphen
  (``-``, U+2010, U+2011) or, between two digits, by ``.`` or ``,`` -- so ``SARS-CoV-2``, ``IL-6``,
  ``HIV-1``, ``COVID-19``, ``5-fluorouracil``, ``TNF-α``, ``N-methyl-D-aspartate``, ``1,25-dihydroxyvitamin``,
  ``0.05`` are one token each (so are ordinary compounds: ``dose-dependent``, ranges: ``10-20``);
* any other non-space character, alone: ``(``, ``)``, ``,``, ``;``, ``:``, ``/``, ``'``, ``+``, ``%``, a
  final ``.``, a hyphen that does not join two word characters (``pre- and post-``) ... -- so ``HIV-1/AIDS``
  is ``HIV-1 / AIDS``, ``CD4+`` is ``CD4 +`` (the entity is ``CD4``) and ``Parkinson's`` is ``Parkinson ' s``.

The model tags words, so either way every sub-token is seen.

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
#: the rule `bioner predict` and `Tagger.predict` split text with unless told otherwise
DEFAULT_TOKENIZER = "punct"


def _pattern(rule: str) -> re.Pattern[str]:
    if rule == "bio":
        return BIO_TOKEN
    if rule == "punct":
        return PUNCT_TOKEN
    raise ValueError(f"unknown tokenizer {rule!r}; use one of {', '.join(TOKENIZERS)}")


def tokenize(text: str, rule: str = DEFAULT_TOKENIZER) -> list[str]:
    """Split one sentence into tokens with `rule` (``bio`` or ``punct``, see the module docstring)."""
    return _pattern(rule).findall(text)


def tokenize_with_offsets(text: str, rule: str = DEFAULT_TOKENIZER) -> list[tuple[str, int, int]]:
    """Like `tokenize`, with each token's character span [start, end) in `text`."""
    return [(m.group(), m.start(), m.end()) for m in _pattern(rule).finditer(text)]
