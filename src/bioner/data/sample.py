"""A deterministic synthetic biomedical NER corpus in the Hub layout, so tests and the demo run offline.

The corpus mirrors the real data's structure (labels.DATA_FILES):

* ``bc5cdr/*`` -- gold Chemical/Disease spans in ``decoded_tags``; ``decoded_tags_pseudo_final`` holds
  the same spans plus Gene/Virus spans from a (noisy) dictionary pass. ~20% of sentences name a gene/virus.
* ``pubmed/pubmed_scrapping.jsonl`` (silver) -- ``decoded_tags`` all O; Gene/Virus spans only, with label
  noise: some true mentions left O and some ambiguous acronyms labelled Gene. Chemicals/diseases occur,
  unlabelled.
* ``pubmed/pubmed_test.jsonl`` -- ``decoded_tags`` all O; noise-free Gene/Virus spans.
* ``dictionaries/{viruses,genes}.txt`` -- what a dictionary built from the training data would hold: the
  virus and gene names that occur in the training splits (not the held-out ones), and in the gene list the
  ambiguous acronyms the noisy dictionary pass tags as Gene. Input of `bioner distant` (distant.mode=relabel).

On request (`extra_types`, e.g. ``("Species",)``) a variant adds a fifth, silver type: a phrase naming a species
ends some sentences of every split; ``decoded_tags_pseudo_final`` labels it like Gene/Virus (a dictionary pass
with misses in the training splits, clean in the PubMed test), ``decoded_tags`` never. It draws on its own
random stream, so the other labels of the variant are those of the default sample, which stays byte-identical.

Every fifth surface form of each type is held out of the training splits (train, silver) and occurs only in
validation and the test splits, so scores measure more than memorisation. Tokens follow the real corpora:
punctuation characters are tokens of their own.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from bioner.data import sample_lexicon as L
from bioner.io.atomic import atomic_open
from bioner.settings.labels import DATA_FILES, FIELD_FULL, FIELD_GOLD

N_TRAIN = 1000
N_VALIDATION = 200
N_TEST_BC5CDR = 200
N_SILVER = 4000
N_TEST_PUBMED = 200

#: Sentences per split of the sample corpus (keys of labels.DATA_FILES).
DEFAULT_SIZES: dict[str, int] = {
    "train": N_TRAIN,
    "validation": N_VALIDATION,
    "test_bc5cdr": N_TEST_BC5CDR,
    "silver": N_SILVER,
    "test_pubmed": N_TEST_PUBMED,
}

#: Dictionary-pass noise: chance a true Gene/Virus mention is left O / an ambiguous acronym is tagged Gene.
MISS_RATE = 0.10
FALSE_POSITIVE_RATE = 0.30
#: Every HOLDOUT_EVERY-th surface form (index % HOLDOUT_EVERY == HOLDOUT_EVERY - 1) is kept out of training.
HOLDOUT_EVERY = 5
#: Splits whose sentences draw only on non-held-out surface forms.
TRAINING_SPLITS = ("train", "silver")
#: The acronyms the dictionary pass may mistake for genes (the vocabulary is in bioner.data.sample_lexicon).
ACRONYMS = L.ACRONYMS

#: Types a sample variant may add (`extra_types`) -> their sample_lexicon kind; share of sentences naming one.
EXTRA_TYPES: dict[str, str] = {"Species": "P"}
EXTRA_RATE = {"bc5cdr": 0.15, "pubmed": 0.35}

#: Mix of template pools per corpus: (pool, weight).
_BC5CDR_MIX = ((L.TEMPLATES_CD, 0.72), (L.TEMPLATES_MIXED, 0.20), (L.TEMPLATES_NONE, 0.08))
_PUBMED_MIX = ((L.TEMPLATES_GV, 0.82), (L.TEMPLATES_MIXED, 0.12), (L.TEMPLATES_NONE, 0.06))


@dataclass(frozen=True)
class SampleSentence:
    """One generated sentence: tokens, the clean 4-type truth and the two label views written to disk."""

    tokens: list[str]
    gold: list[str]  # clean truth over all types (not written)
    tags5: list[str]  # decoded_tags
    tags9: list[str]  # decoded_tags_pseudo_final

    def record(self) -> dict[str, list[str]]:
        return {"tokens": self.tokens, FIELD_GOLD: self.tags5, FIELD_FULL: self.tags9}


def _surface_forms(kind: str, split_key: str) -> list[tuple[str, ...]]:
    forms = [tuple(s.split()) for s in L.LEXICON[kind]]
    if split_key in TRAINING_SPLITS:
        forms = [f for i, f in enumerate(forms) if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1]
    return forms


def held_out_forms(kind: str) -> list[tuple[str, ...]]:
    """Surface forms of a type ('C', 'D', 'V', 'G' or 'P') that never occur in train or silver."""
    return [tuple(s.split()) for i, s in enumerate(L.LEXICON[kind]) if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]


def _pick_pool(rng: random.Random, mix: tuple[tuple[tuple[str, ...], float], ...]) -> tuple[str, ...]:
    pools, weights = zip(*mix, strict=True)
    return rng.choices(pools, weights=weights)[0]


def _sentence_template(rng: random.Random, pool: tuple[str, ...]) -> list[str]:
    words = rng.choice(pool).split()
    if rng.random() < 0.35:
        words = rng.choice(L.PREFIXES).split() + words
    if rng.random() < 0.35:
        words = words + rng.choice(L.SUFFIXES).split()
    first = words[0]
    if first[0].islower():  # never a slot: slots start with "{"
        words[0] = first[0].upper() + first[1:]
    return words + ["."]


def _fill(
    rng: random.Random, words: list[str], forms: dict[str, list[tuple[str, ...]]]
) -> tuple[list[str], list[str], list[int]]:
    """Fill slots; return tokens, clean 9-tag truth, and the positions of ambiguous acronyms."""
    tokens: list[str] = []
    gold: list[str] = []
    acronyms: list[int] = []
    for word in words:
        if len(word) == 3 and word[0] == "{" and word[2] == "}":
            kind = word[1]
            if kind == "N":
                tokens.append(str(rng.randint(2, 500)))
                gold.append("O")
            elif kind == "F":
                tokens.extend([str(rng.randint(0, 9)), ".", f"{rng.randint(0, 99):02d}"])
                gold.extend(["O"] * 3)
            elif kind in "AS":
                acronyms.append(len(tokens))
                tokens.append(rng.choice(L.METHOD_ACRONYMS if kind == "A" else L.STAT_ACRONYMS))
                gold.append("O")
            else:
                form = rng.choice(forms[kind])
                tokens.extend(form)
                gold.extend([f"B-{L.TYPE[kind]}"] + [f"I-{L.TYPE[kind]}"] * (len(form) - 1))
        else:
            tokens.append(word)
            gold.append("O")
    return tokens, gold, acronyms


def _dictionary_pass(rng: random.Random, gold: list[str], acronyms: list[int], noisy: bool) -> list[str]:
    """Gene/Virus tags as a dictionary matcher finds them; if noisy, with misses and acronym false hits."""
    out = ["O"] * len(gold)
    i = 0
    while i < len(gold):
        if gold[i][2:] in ("Gene", "Virus") and gold[i].startswith("B-"):
            j = i + 1
            while j < len(gold) and gold[j] == f"I-{gold[i][2:]}":
                j += 1
            if not (noisy and rng.random() < MISS_RATE):
                out[i:j] = gold[i:j]
            i = j
        else:
            i += 1
    if noisy:
        for k in acronyms:
            if rng.random() < FALSE_POSITIVE_RATE:
                out[k] = "B-Gene"
    return out


def _keep(tags: list[str], types: tuple[str, ...]) -> list[str]:
    return [t if t != "O" and t[2:] in types else "O" for t in tags]


def _add_extra_type(rng: random.Random, s: SampleSentence, kind: str, forms: list[tuple[str, ...]],
                    noisy: bool) -> SampleSentence:
    """`s` with a phrase naming an extra-type mention before its final '.', labelled in the gold+silver view
    unless a noisy dictionary pass misses it; never in the gold view."""
    tokens, gold, _ = _fill(rng, rng.choice(L.EXTRA_PHRASES[kind]).split(), {kind: forms})
    found = gold if not (noisy and rng.random() < MISS_RATE) else ["O"] * len(gold)
    cut = len(s.tokens) - 1  # before the final "."
    return SampleSentence(s.tokens[:cut] + tokens + s.tokens[cut:], s.gold[:cut] + gold + s.gold[cut:],
                          s.tags5[:cut] + ["O"] * len(tokens) + s.tags5[cut:], s.tags9[:cut] + found + s.tags9[cut:])


def generate_split(split_key: str, n: int, seed: int = 0, extra_types: tuple[str, ...] = ()) -> list[SampleSentence]:
    """Generate `n` sentences of split `split_key` (a DATA_FILES key); deterministic in (split_key, seed).

    `extra_types` (keys of EXTRA_TYPES) add those types from separate random streams (module docstring)."""
    if split_key not in DATA_FILES:
        raise KeyError(f"unknown split {split_key!r}; expected one of {sorted(DATA_FILES)}")
    unknown = [t for t in extra_types if t not in EXTRA_TYPES]
    if unknown:
        raise KeyError(f"unknown extra type(s) {unknown}; the sample can add {sorted(EXTRA_TYPES)}")
    rng = random.Random(f"bioner-sample:{seed}:{split_key}")
    forms = {kind: _surface_forms(kind, split_key) for kind in L.LEXICON}
    is_bc5cdr = DATA_FILES[split_key].startswith("bc5cdr/")
    mix = _BC5CDR_MIX if is_bc5cdr else _PUBMED_MIX
    extra_rngs = {t: random.Random(f"bioner-sample:{seed}:{split_key}:{t}") for t in extra_types}
    sentences = []
    for _ in range(n):
        words = _sentence_template(rng, _pick_pool(rng, mix))
        tokens, gold, acronyms = _fill(rng, words, forms)
        if is_bc5cdr:
            tags5 = _keep(gold, ("Chemical", "Disease"))
            dictionary = _dictionary_pass(rng, gold, acronyms, noisy=True)
            tags9 = [c if c != "O" else d for c, d in zip(tags5, dictionary, strict=True)]
        else:
            tags5 = ["O"] * len(tokens)
            tags9 = _dictionary_pass(rng, gold, acronyms, noisy=split_key == "silver")
        sentence = SampleSentence(tokens, gold, tags5, tags9)
        for etype, xr in extra_rngs.items():
            if xr.random() < EXTRA_RATE["bc5cdr" if is_bc5cdr else "pubmed"]:
                kind = EXTRA_TYPES[etype]
                sentence = _add_extra_type(xr, sentence, kind, forms[kind], noisy=split_key != "test_pubmed")
        sentences.append(sentence)
    return sentences


#: Dictionary files of the sample (relative to the data root) -> the surface forms they list.
DICTIONARIES: dict[str, tuple[str, ...]] = {
    "dictionaries/viruses.txt": tuple(" ".join(f) for f in _surface_forms("V", "train")),
    "dictionaries/genes.txt": (*(" ".join(f) for f in _surface_forms("G", "train")), *ACRONYMS),
}
#: The dictionary of each extra type (written only for a variant that adds the type).
EXTRA_DICTIONARIES: dict[str, str] = {"Species": "dictionaries/species.txt"}


def write_dictionaries(dest: Path, extra_types: tuple[str, ...] = ()) -> None:
    """Write the sample's dictionaries under dest (names detokenised: "SARS-CoV-2", as a real list has them),
    plus one per extra type of a variant (its training-split names)."""
    files = {**DICTIONARIES, **{EXTRA_DICTIONARIES[t]: tuple(" ".join(f) for f in _surface_forms(
        EXTRA_TYPES[t], "train")) for t in extra_types}}
    for rel, names in files.items():
        with atomic_open(Path(dest) / rel) as fh:
            fh.write(f"# bioner.sample: {Path(rel).stem} of the training splits, one name a line\n")
            fh.writelines(name.replace(" - ", "-") + "\n" for name in names)


def write_sample_corpus(dest: Path, seed: int = 0, sizes: dict[str, int] | None = None,
                        extra_types: tuple[str, ...] = ()) -> dict[str, int]:
    """Write the five JSONL files of labels.DATA_FILES under dest (creating bc5cdr/ and pubmed/), atomically,
    and the sample's dictionaries (`write_dictionaries`).

    `sizes` overrides DEFAULT_SIZES per split; `extra_types` (e.g. ("Species",)) writes the variant with those
    silver types added, and their dictionaries. Returns {split_key: n_sentences}.
    """
    sizes = {**DEFAULT_SIZES, **(sizes or {})}
    unknown = set(sizes) - set(DATA_FILES)
    if unknown:
        raise KeyError(f"unknown split(s) in sizes: {sorted(unknown)}")
    dest = Path(dest)
    counts: dict[str, int] = {}
    for split_key, rel in DATA_FILES.items():
        sentences = generate_split(split_key, sizes[split_key], seed, extra_types)
        with atomic_open(dest / rel) as fh:
            for s in sentences:
                fh.write(json.dumps(s.record(), ensure_ascii=False) + "\n")
        counts[split_key] = len(sentences)
    write_dictionaries(dest, extra_types)
    return counts
