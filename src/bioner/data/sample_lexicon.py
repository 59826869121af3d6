"""The vocabulary of the synthetic sample corpus (bioner.data.sample): surface forms per entity type, acronyms and
sentence templates. Pure data; the generator's rules are in sample.py."""

from __future__ import annotations

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

#: An optional fifth type (bioner.data.sample's `extra_types`): species, none of them used by the four default types.
SPECIES: tuple[str, ...] = (
    "Homo sapiens", "Mus musculus", "Rattus norvegicus", "Escherichia coli", "Saccharomyces cerevisiae",
    "Drosophila melanogaster", "Danio rerio", "Caenorhabditis elegans", "Arabidopsis thaliana", "Macaca mulatta",
    "Sus scrofa", "Bos taurus", "Gallus gallus", "Xenopus laevis", "Staphylococcus aureus",
    "Pseudomonas aeruginosa", "Mycobacterium tuberculosis", "Plasmodium falciparum", "Candida albicans",
    "Streptococcus pneumoniae", "Klebsiella pneumoniae", "Bacillus subtilis", "Listeria monocytogenes",
    "Helicobacter pylori", "Toxoplasma gondii", "Aspergillus fumigatus", "Chlamydia trachomatis",
    "Neisseria meningitidis", "Salmonella enterica serovar Typhimurium", "Vibrio cholerae",
    "Oryctolagus cuniculus", "Canis familiaris", "Felis catus", "Ovis aries", "Equus caballus",
    "Mesocricetus auratus", "Cavia porcellus", "Chlorocebus sabaeus", "Pan troglodytes", "Legionella pneumophila",
)

#: Ambiguous acronyms ({A} methods, {S} statistics): O in truth, sometimes tagged Gene by the dictionary.
METHOD_ACRONYMS: tuple[str, ...] = ("PCR", "CT", "MRI", "ELISA", "ECG", "FACS", "EEG", "HPLC")
STAT_ACRONYMS: tuple[str, ...] = ("OR", "HR", "RR", "SD", "AUC")
ACRONYMS: tuple[str, ...] = METHOD_ACRONYMS + STAT_ACRONYMS

# fmt: on

LEXICON: dict[str, tuple[str, ...]] = {"C": CHEMICALS, "D": DISEASES, "V": VIRUSES, "G": GENES, "P": SPECIES}
TYPE = {"C": "Chemical", "D": "Disease", "V": "Virus", "G": "Gene", "P": "Species"}

# --- templates: {C} chemical, {D} disease, {V} virus, {G} gene, {P} species (extra type only), {A}/{S}
# acronym, {N} integer, {F} decimal

TEMPLATES_CD: tuple[str, ...] = (
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

TEMPLATES_GV: tuple[str, ...] = (
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
TEMPLATES_MIXED: tuple[str, ...] = (
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

TEMPLATES_NONE: tuple[str, ...] = (
    "the mean follow - up was {N} months",
    "written informed consent was obtained from all {N} participants",
    "data were analysed with a mixed - effects model",
    "the study was approved by the local ethics committee",
    "samples were stored at - {N} degrees until analysis",
    "all patients underwent {A} at baseline",
    "a total of {N} records were screened",
)

#: Phrases that carry an extra type's mention ({P} species), put before the final "." of a sentence.
EXTRA_PHRASES: dict[str, tuple[str, ...]] = {
    "P": (
        "in {P}",
        "in cells isolated from {P}",
        "using {P} as a model organism",
        "in wild - type {P}",
        "and in {P} strains",
        "as reported for {P}",
    ),
}

PREFIXES: tuple[str, ...] = (
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

SUFFIXES: tuple[str, ...] = (
    "( P < 0 . 05 )",
    "( n = {N} )",
    "( {S} = {F} )",
    "in a cohort of {N} patients",
    "( {S} {F} , 95 % CI {F} - {F} )",
    "as assessed by {A}",
    "in {N} independent experiments",
)
