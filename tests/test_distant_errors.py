"""Every bad input of the distant stage through `relabel`: one line naming file:line or the param, a CorpusError
subclass (the CLI prints it, exit code 2), and nothing written: no output, no report, no temp file, and an
existing output left as it was."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bioner.data.corpus import CorpusError
from bioner.distant.errors import DistantError
from bioner.distant.labelling import relabel
from bioner.distant.lexicon import MatchRules

GENES = "# genes\nCD4\nER\nHBV polymerase\n"
VIRUSES = "HIV\nHBV\n"
CORPUS = [{"tokens": ["HIV", "binds", "CD4"], "decoded_tags": ["O", "O", "O"],
           "decoded_tags_pseudo_final": ["O", "O", "O"]}]

# (case, files to write {name: bytes}, relabel keyword overrides, CorpusError class, message regex)
CASES = [
    ("empty dictionary", {"genes.txt": b"# nothing yet\n\n"}, {}, r"^{d}/genes.txt:1: dictionary names nothing"),
    ("name tokenises to nothing", {"genes.txt": b"CD4\tHGNC:1\n \tHGNC:2\n"}, {},
     r"^{d}/genes.txt:2: the name '' tokenises to no word"),
    ("name of punctuation only", {"genes.txt": b"CD4\n(+)\n"}, {},
     r"^{d}/genes.txt:2: the name '\(\+\)' \(tokens \['\(', '\+', '\)'\]\) tokenises to no word"),
    ("type clashes with a gold type", {}, {"dictionaries": {"Disease": "genes.txt"}},
     r"^distant.dictionaries: type 'Disease' clashes with the gold type 'Disease'"),
    ("type not a label fragment", {}, {"dictionaries": {"Gene-like": "genes.txt"}},
     r"^distant.dictionaries: type 'Gene-like' is not a valid label fragment"),
    ("non-UTF-8 bytes", {"viruses.txt": b"HIV\nH\xe9patite B\n"}, {},
     r"^{d}/viruses.txt:2: not valid UTF-8 \(invalid continuation byte at byte 1\)"),
    ("missing dictionary path", {}, {"dictionaries": {"Virus": "viruses.txt", "Gene": "nope/genes.txt"}},
     r"^distant.dictionaries.Gene='{d}/nope/genes.txt': dictionary file not found"),
    ("stop list file naming nothing", {"stop.txt": b"# ambiguous acronyms\n"}, {"stop": "stop.txt"},
     r"^{d}/stop.txt:1: stop list names nothing"),
    ("stop list naming no dictionary name", {"stop.txt": b"RT\nCT\n"}, {"stop": "stop.txt"},
     r"^{d}/stop.txt: the stop list names nothing in the dictionaries \(none of its 2 entries"),
    ("inline stop list naming no dictionary name", {}, {"stop": ["RT", "PD"]},
     r"^distant.stop: the stop list names nothing in the dictionaries"),
    ("every name of a type dropped", {"viruses.txt": b"HIV\n"}, {"stop": ["hiv"]},
     r"^{d}/viruses.txt: no Virus name is left after the rules \(in the stop list: 1\)"),
    ("priority not the dictionary types", {}, {"rules": MatchRules(priority=("Gene", "Species"))},
     r"^distant.priority=\['Gene', 'Species'\]: must list each dictionary type once"),
    ("corpus record with a bad label", {"corpus.jsonl": b'{"tokens": ["a"], "decoded_tags": ["B-Gene"]}\n'}, {},
     r"^{d}/corpus.jsonl:1: label\(s\) \['B-Gene'\] not in the 5-label space"),
]


@pytest.mark.parametrize(("files", "kwargs", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(tmp_path: Path, files: dict[str, bytes], kwargs: dict, message: str) -> None:
    d = tmp_path / "data"
    d.mkdir()
    (d / "genes.txt").write_text(GENES, encoding="utf-8")
    (d / "viruses.txt").write_text(VIRUSES, encoding="utf-8")
    (d / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in CORPUS), encoding="utf-8")
    for name, content in files.items():
        (d / name).write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    (out / "silver.jsonl").write_text("the previous output\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    args = {"dictionaries": {"Virus": "viruses.txt", "Gene": "genes.txt"}, "gold_types": ("Chemical", "Disease"),
            "base_dir": d, "report_path": out / "distant.json"} | kwargs
    with pytest.raises(CorpusError, match=message.format(d=re.escape(str(d)))) as info:
        relabel(d / "corpus.jsonl", out / "silver.jsonl", **args)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, DistantError) or "corpus" in message
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before  # nothing written


def test_good_input_writes_both(tmp_path: Path) -> None:
    (tmp_path / "genes.txt").write_text(GENES, encoding="utf-8")
    (tmp_path / "viruses.txt").write_text(VIRUSES, encoding="utf-8")
    (tmp_path / "corpus.jsonl").write_text(json.dumps(CORPUS[0]) + "\n", encoding="utf-8")
    rep = relabel(tmp_path / "corpus.jsonl", tmp_path / "out.jsonl", {"Virus": "viruses.txt", "Gene": "genes.txt"},
                  stop=["ER"], base_dir=tmp_path, report_path=tmp_path / "distant.json")
    assert json.loads((tmp_path / "out.jsonl").read_text())["decoded_tags_pseudo_final"] == ["B-Virus", "O", "B-Gene"]
    assert rep["types"]["Gene"]["names_dropped"] == {"in the stop list": 1}
    assert json.loads((tmp_path / "distant.json").read_text()) == rep
