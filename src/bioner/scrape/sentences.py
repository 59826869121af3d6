"""Sentence splitting (syntok) and the corpus's tokenisation (`punct`, like BC5CDR/PubTator).

syntok (segtok's successor) is a rule-based splitter built for scientific text: it keeps abbreviations such as
"E. coli", "et al.", "e.g.", "i.v.", "Fig. 2A", "approx." and "pts." inside their sentence and needs no model
download (docs/benchmarks.md s.9 compares it with pysbd: more accurate and faster on abstracts).
A sentence is cut from the original text by syntok's token offsets, then tokenised by `punct`, the rule the gold
corpora use, so distant labels and gold spans share one tokenisation.
"""

from __future__ import annotations

from syntok import segmenter

from ..data.textsplit import tokenize


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, each a substring of it (whitespace at the ends stripped)."""
    out: list[str] = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            words = [t for t in sentence if t.value]
            if words:
                first, last = words[0], words[-1]
                out.append(text[first.offset:last.offset + len(last.value)])
    return out


def sentence_tokens(text: str) -> list[list[str]]:
    """`text` split into sentences, each tokenised by the `punct` rule; sentences without a token dropped."""
    return [toks for s in split_sentences(text) if (toks := tokenize(s, "punct"))]
