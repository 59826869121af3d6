"""A deterministic synthetic biomedical NER corpus in the Hub layout, so tests and the demo run offline.

The corpus mirrors the real data's structure (labels.DATA_FILES):

* ``bc5cdr/*`` -- gold Chemical/Disease spans in ``decoded_tags``; ``decoded_tags_pseudo_final`` holds
  the same spans plus Gene/Virus spans from a (noisy) dictionary pass. ~20% of sentences name a gene/virus.
* ``pubmed/pubmed_scrapping.jsonl`` (silver) -- ``decoded_tags`` all O; Gene/Virus spans only, with label
  noise: some true mentions left O and some ambiguous acronyms labelled Gene. Chemicals/diseases occur,
  unlabelled.
* ``pubmed/pubmed_test.jsonl`` -- ``decoded_tags`` all O; noise-free Gene/Virus spans.

Every fifth surface form of each type is held out of the training splits (train, silver) and occurs only in
validation and the test splits, so scores measure more than memorisation. Tokens follow the real corpora:
punctuation characters are tokens of their own.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from bioner.atomic import atomic_open
from bioner.labels import DATA_FILES, FIELD_5TAG, FIELD_9TAG

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

# --- surface forms (pre-tokenised: tokens separated by single spaces) -------------------------------------

# fmt: off
CHEMICALS: tuple[str, ...] = (
    "cisplatin", "lithium carbonate", "5 - fluorouracil", "doxorubicin", "haloperidol", "cocaine",
    "morphine", "nicotine", "dexamethasone", "methotrexate", "cyclophosphamide", "tamoxifen",
    "amiodarone", "gentamicin", "vancomycin", "warfarin", "heparin", "aspirin", "acetaminophen",
    "ibuprofen", "indomethacin", "caffeine", "ethanol", "levodopa", "streptozotocin",
    "puromycin aminonucleoside", "isoproterenol", "pilocarpine", "kainic acid", "valproic acid",
    "carbamazepine", "phenytoin", "lidocaine", "bupivacaine", "propofol", "ketamine", "fentanyl",
    "clozapine", "risperidone", "olanzapine", "paclitaxel", "vincristine", "cyclosporine A", "tacrolimus",
    "captopril", "nifedipine", "verapamil", "propranolol", "metformin", "digoxin", "chloroquine",
    "hydroxychloroquine", "remdesivir", "ribavirin", "oseltamivir", "nitric oxide", "hydrogen peroxide",
    "N - methyl - D - aspartate", "all - trans retinoic acid", "sodium valproate",
)

DISEASES: tuple[str, ...] = (
    "hepatitis", "acute renal failure", "Parkinson ' s disease", "Alzheimer ' s disease", "hypertension",
    "hypotension", "seizures", "epilepsy", "cardiomyopathy", "heart failure", "myocardial infarction",
    "arrhythmia", "ventricular tachycardia", "bradycardia", "nephrotoxicity", "hepatotoxicity",
    "cardiotoxicity", "neurotoxicity", "ototoxicity", "proteinuria", "nephrotic syndrome",
    "diabetes mellitus", "type 2 diabetes", "breast cancer", "lung cancer", "leukemia", "lymphoma",
    "headache", "nausea", "vomiting", "depression", "schizophrenia", "bipolar disorder", "psychosis",
    "catalepsy", "tardive dyskinesia", "akathisia", "anemia", "thrombocytopenia", "neutropenia",
    "agranulocytosis", "hemorrhage", "stroke", "deep vein thrombosis", "pulmonary embolism", "pneumonia",
    "sepsis", "rhabdomyolysis", "pancreatitis", "liver cirrhosis", "hyperkalemia", "hyponatremia",
    "long QT syndrome", "Stevens - Johnson syndrome", "delirium", "memory impairment", "obesity",
    "COVID - 19", "acute respiratory distress syndrome", "interstitial nephritis",
)

VIRUSES: tuple[str, ...] = (
    "SARS - CoV - 2", "SARS - CoV", "MERS - CoV", "HIV - 1", "HIV - 2", "hepatitis B virus",
    "hepatitis C virus", "HBV", "HCV", "influenza A virus", "influenza B virus", "H1N1", "H5N1", "H3N2",
    "respiratory syncytial virus", "RSV", "Zika virus", "dengue virus", "Ebola virus", "West Nile virus",
    "herpes simplex virus type 1", "HSV - 1", "cytomegalovirus", "CMV", "Epstein - Barr virus", "EBV",
    "human papillomavirus", "HPV", "varicella - zoster virus", "measles virus", "mumps virus",
    "rubella virus", "rotavirus", "norovirus", "adenovirus", "poliovirus", "rabies virus", "Marburg virus",
    "Lassa virus", "chikungunya virus", "yellow fever virus", "HCoV - 229E", "HCoV - OC43",
    "human metapneumovirus", "enterovirus 71", "vaccinia virus", "monkeypox virus",
    "simian immunodeficiency virus", "hepatitis E virus", "Hantaan virus",
)

GENES: tuple[str, ...] = (
    "IL - 6", "TP53", "ACE2", "tumor necrosis factor", "TNF - alpha", "IL - 1 beta", "IL - 10",
    "IFN - gamma", "TMPRSS2", "BRCA1", "BRCA2", "EGFR", "KRAS", "BRAF", "MYC", "PTEN", "AKT1", "mTOR",
    "STAT3", "NF - kappaB", "TLR4", "TLR7", "RIG - I", "MAVS", "IRF3", "IRF7", "CD4", "CCR5", "CXCR4",
    "HLA - B", "APOE", "VEGF", "HIF - 1 alpha", "CDKN2A", "JAK2", "NOTCH1", "SOX2", "GAPDH", "p21",
    "Bcl - 2", "caspase - 3", "cyclin D1", "interleukin - 8", "angiotensin - converting enzyme 2",
    "furin", "cathepsin L", "OAS1", "MX1", "ISG15", "DPP4", "SIRT1", "NRF2", "HMOX1", "PD - L1", "CTLA4",
)

#: Ambiguous acronyms ({A} methods, {S} statistics): O in truth, sometimes tagged Gene by the dictionary.
METHOD_ACRONYMS: tuple[str, ...] = ("PCR", "CT", "MRI", "ELISA", "ECG", "FACS", "EEG", "HPLC")
STAT_ACRONYMS: tuple[str, ...] = ("OR", "HR", "RR", "SD", "AUC")
ACRONYMS: tuple[str, ...] = METHOD_ACRONYMS + STAT_ACRONYMS

# fmt: on

_LEXICON: dict[str, tuple[str, ...]] = {"C": CHEMICALS, "D": DISEASES, "V": VIRUSES, "G": GENES}
_TYPE = {"C": "Chemical", "D": "Disease", "V": "Virus", "G": "Gene"}

# --- templates: {C} chemical, {D} disease, {V} virus, {G} gene, {A}/{S} acronym, {N} integer, {F} decimal

_TEMPLATES_CD: tuple[str, ...] = (
    "{C} - induced {D} in rats",
    "patients treated with {C} developed {D}",
    "the incidence of {D} was higher in the {C} group than in the placebo group",
    "{C} is a well - known cause of {D}",
    "we report a case of {D} associated with {C} therapy",
    "administration of {C} ( {N} mg / kg ) produced {D} in mice",
    "{D} occurred in {N} of {N} patients receiving {C}",
    "the protective effect of {C} against {C} - induced {D} was examined",
    "{C} and {C} were compared for the treatment of {D}",
    "risk of {D} and {D} among users of {C}",
    "no cases of {D} were observed after {C} withdrawal",
    "a {N} - year - old woman presented with {D} after taking {C}",
    "these results suggest that {C} may prevent {D}",
    "{D} is a rare complication of {C} treatment",
    "serum levels of {C} were measured in patients with {D}",
    "{C} attenuated {D} and {D} in this model",
    "the combination of {C} with {C} caused severe {D}",
    "chronic exposure to {C} is a risk factor for {D}",
    "{D} resolved after discontinuation of {C}",
    "pretreatment with {C} reduced the severity of {D}",
    "we describe {N} patients with {D} who had received {C}",
    "{C} toxicity manifested as {D} and {D}",
)

_TEMPLATES_GV: tuple[str, ...] = (
    "{V} enters host cells via the {G} receptor",
    "expression of {G} was upregulated following {V} infection",
    "the {G} gene was sequenced in {N} patients infected with {V}",
    "{V} RNA was detected by {A} in nasal swabs",
    "we identified mutations in {G} and {G} in {V} isolates",
    "{G} interacts with the spike protein of {V}",
    "knockdown of {G} reduced {V} replication in vitro",
    "seroprevalence of {V} antibodies among health care workers was {N} %",
    "{V} and {V} co - infection was confirmed by {A}",
    "{G} signaling is required for the antiviral response to {V}",
    "polymorphisms in {G} were associated with susceptibility to {V}",
    "the {V} genome encodes a protease that cleaves {G}",
    "levels of {G} and {G} were measured by {A}",
    "{V} infection induces {G} expression in macrophages",
    "overexpression of {G} inhibited {V} entry",
    "{G} is a key host factor for {V}",
    "cells lacking {G} were resistant to {V}",
    "the binding affinity of {V} for {G} was measured",
    "{V} suppresses {G} activation in infected cells",
    "serum {G} was elevated in patients with {V} infection",
    "phosphorylation of {G} by {G} was enhanced after {V} challenge",
    "{G} deficiency increased the susceptibility of mice to {V}",
)

# Mixed sentences: at least one Chemical/Disease and one Gene/Virus mention.
_TEMPLATES_MIXED: tuple[str, ...] = (
    "{C} reduced {G} expression in patients with {D}",
    "{D} was associated with {V} infection in patients treated with {C}",
    "{C} inhibits {G} and attenuates {D}",
    "patients with {V} infection developed {D} after {C} treatment",
    "levels of {G} were elevated in {D}",
    "{C} inhibited {V} replication in cell culture",
    "{G} mutations were found in patients with {D}",
    "{V} infection is a major cause of {D}",
    "{C} was given to {N} patients with {V} - associated {D}",
    "{G} mediates {C} - induced {D}",
)

_TEMPLATES_NONE: tuple[str, ...] = (
    "the mean follow - up was {N} months",
    "written informed consent was obtained from all {N} participants",
    "data were analysed with a mixed - effects model",
    "the study was approved by the local ethics committee",
    "samples were stored at - {N} degrees until analysis",
    "all patients underwent {A} at baseline",
    "a total of {N} records were screened",
)

_PREFIXES: tuple[str, ...] = (
    "In this study ,",
    "However ,",
    "Moreover ,",
    "Furthermore ,",
    "Interestingly ,",
    "In addition ,",
    "Notably ,",
    "Here ,",
    "In conclusion ,",
    "As expected ,",
)

_SUFFIXES: tuple[str, ...] = (
    "( P < 0 . 05 )",
    "( n = {N} )",
    "( {S} = {F} )",
    "in a cohort of {N} patients",
    "( {S} {F} , 95 % CI {F} - {F} )",
    "as assessed by {A}",
    "in {N} independent experiments",
)

# Mix of template pools per corpus: (pool, weight).
_BC5CDR_MIX = ((_TEMPLATES_CD, 0.72), (_TEMPLATES_MIXED, 0.20), (_TEMPLATES_NONE, 0.08))
_PUBMED_MIX = ((_TEMPLATES_GV, 0.82), (_TEMPLATES_MIXED, 0.12), (_TEMPLATES_NONE, 0.06))


@dataclass(frozen=True)
class SampleSentence:
    """One generated sentence: tokens, the clean 4-type truth and the two label views written to disk."""

    tokens: list[str]
    gold: list[str]  # clean 9-tag truth over all four types (not written)
    tags5: list[str]  # decoded_tags
    tags9: list[str]  # decoded_tags_pseudo_final

    def record(self) -> dict[str, list[str]]:
        return {"tokens": self.tokens, FIELD_5TAG: self.tags5, FIELD_9TAG: self.tags9}


def _surface_forms(kind: str, split_key: str) -> list[tuple[str, ...]]:
    forms = [tuple(s.split()) for s in _LEXICON[kind]]
    if split_key in TRAINING_SPLITS:
        forms = [f for i, f in enumerate(forms) if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1]
    return forms


def held_out_forms(kind: str) -> list[tuple[str, ...]]:
    """Surface forms of a type ('C', 'D', 'V' or 'G') that never occur in train or silver."""
    return [tuple(s.split()) for i, s in enumerate(_LEXICON[kind]) if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1]


def _pick_pool(rng: random.Random, mix: tuple[tuple[tuple[str, ...], float], ...]) -> tuple[str, ...]:
    pools, weights = zip(*mix, strict=True)
    return rng.choices(pools, weights=weights)[0]


def _sentence_template(rng: random.Random, pool: tuple[str, ...]) -> list[str]:
    words = rng.choice(pool).split()
    if rng.random() < 0.35:
        words = rng.choice(_PREFIXES).split() + words
    if rng.random() < 0.35:
        words = words + rng.choice(_SUFFIXES).split()
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
                tokens.append(rng.choice(METHOD_ACRONYMS if kind == "A" else STAT_ACRONYMS))
                gold.append("O")
            else:
                form = rng.choice(forms[kind])
                tokens.extend(form)
                gold.extend([f"B-{_TYPE[kind]}"] + [f"I-{_TYPE[kind]}"] * (len(form) - 1))
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


def generate_split(split_key: str, n: int, seed: int = 0) -> list[SampleSentence]:
    """Generate `n` sentences of split `split_key` (a DATA_FILES key); deterministic in (split_key, seed)."""
    if split_key not in DATA_FILES:
        raise KeyError(f"unknown split {split_key!r}; expected one of {sorted(DATA_FILES)}")
    rng = random.Random(f"bioner-sample:{seed}:{split_key}")
    forms = {kind: _surface_forms(kind, split_key) for kind in _LEXICON}
    is_bc5cdr = DATA_FILES[split_key].startswith("bc5cdr/")
    mix = _BC5CDR_MIX if is_bc5cdr else _PUBMED_MIX
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
        sentences.append(SampleSentence(tokens, gold, tags5, tags9))
    return sentences


def write_sample_corpus(dest: Path, seed: int = 0, sizes: dict[str, int] | None = None) -> dict[str, int]:
    """Write the five JSONL files of labels.DATA_FILES under dest (creating bc5cdr/ and pubmed/), atomically.

    `sizes` overrides DEFAULT_SIZES per split. Returns {split_key: n_sentences}.
    """
    sizes = {**DEFAULT_SIZES, **(sizes or {})}
    unknown = set(sizes) - set(DATA_FILES)
    if unknown:
        raise KeyError(f"unknown split(s) in sizes: {sorted(unknown)}")
    dest = Path(dest)
    counts: dict[str, int] = {}
    for split_key, rel in DATA_FILES.items():
        sentences = generate_split(split_key, sizes[split_key], seed)
        with atomic_open(dest / rel) as fh:
            for s in sentences:
                fh.write(json.dumps(s.record(), ensure_ascii=False) + "\n")
        counts[split_key] = len(sentences)
    return counts
