"""The `distant` stage and `bioner distant`: keep copies exactly, relabel on the sample, --score, exit 2 on bad
input with nothing written, and the typed `distant` settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioner.cli.pipeline import main
from bioner.data.corpus import load_corpus
from bioner.data.sample import DICTIONARIES, write_sample_corpus
from bioner.distant.stage import run_stage
from bioner.settings import settings as S
from bioner.settings.labels import DATA_FILES, FIELD_FULL, FIELD_GOLD
from bioner.settings.sections import DistantSettings

SIZES = {"train": 30, "validation": 10, "test_bc5cdr": 10, "silver": 60, "test_pubmed": 10}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("distant_raw") / "raw"
    write_sample_corpus(d, seed=0, sizes=SIZES)
    return d


@pytest.fixture(scope="module")
def params(raw: Path) -> Path:
    p = raw.parent / "params.yaml"
    p.write_text(json.dumps(S.Settings().model_dump(mode="json")), encoding="utf-8")  # JSON is YAML
    return p


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_ships_dictionaries(raw: Path) -> None:
    for rel in DICTIONARIES:
        lines = (raw / rel).read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("#") and len(lines) > 10
    assert "SARS-CoV-2" in (raw / "dictionaries/viruses.txt").read_text(encoding="utf-8")


def test_keep_copies_every_file_unchanged(raw: Path, tmp_path: Path) -> None:
    m = run_stage(DistantSettings(), raw, tmp_path / "labelled", metrics_path=tmp_path / "m.json",
                  report_path=tmp_path / "r.json")
    for rel in DATA_FILES.values():
        assert (tmp_path / "labelled" / rel).read_bytes() == (raw / rel).read_bytes()
    silver = load_corpus(raw / DATA_FILES["silver"], FIELD_FULL).tags
    assert m["relabelled"] == 0 and m["silver_spans_Gene"] == sum(t.count("B-Gene") for t in silver) > 0
    assert json.loads((tmp_path / "m.json").read_text()) == m
    assert json.loads((tmp_path / "r.json").read_text()) == {"mode": "keep", "files": {}}


def test_relabel_from_the_sample_dictionaries(raw: Path, tmp_path: Path) -> None:
    cfg = DistantSettings(mode="relabel")
    m = run_stage(cfg, raw, tmp_path / "lab", gold_types=("Chemical", "Disease"), metrics_path=tmp_path / "m.json",
                  report_path=tmp_path / "r.json")
    lab = tmp_path / "lab"
    for key in ("test_pubmed",):  # gold: never relabelled
        assert (lab / DATA_FILES[key]).read_bytes() == (raw / DATA_FILES[key]).read_bytes()
    for key in ("silver", "train", "validation", "test_bc5cdr"):
        old5, new5 = (load_corpus(d / DATA_FILES[key], FIELD_GOLD).tags for d in (raw, lab))
        assert old5 == new5  # the gold view is kept
        new9 = load_corpus(lab / DATA_FILES[key], FIELD_FULL)
        for g, t in zip(new5, new9.tags, strict=True):  # gold spans copied, silver only on gold-O tokens
            assert all(x == y for x, y in zip(g, t, strict=True) if x != "O")
    silver = load_corpus(lab / DATA_FILES["silver"], FIELD_FULL)
    # every acronym of the sample's gene list is tagged now (the shipped noisy pass tagged 30 %)
    acr = [t for toks, tags in zip(silver.tokens, silver.tags, strict=True) for w, t in zip(toks, tags, strict=True)
           if w in ("PCR", "OR", "CT")]
    assert acr and set(acr) == {"B-Gene"}
    assert m["relabelled"] == 1 and m["names_loaded_Gene"] == len(DICTIONARIES["dictionaries/genes.txt"])
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["mode"] == "relabel" and set(rep["files"]) == {"silver", "train", "validation", "test_bc5cdr"}
    assert rep["files"]["train"]["only_gold_o"] and not rep["files"]["silver"]["only_gold_o"]

    # a stop list removes the acronyms; gold_o off copies the BC5CDR files
    m2 = run_stage(DistantSettings(mode="relabel", stop=["PCR", "OR", "CT"], gold_o=False), raw, tmp_path / "lab2")
    assert m2["silver_spans_Gene"] < m["silver_spans_Gene"] and m2["names_dropped_Gene"] == 3
    assert (tmp_path / "lab2" / DATA_FILES["train"]).read_bytes() == (raw / DATA_FILES["train"]).read_bytes()


def _cli(capsys: pytest.CaptureFixture, *args: str | Path) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_relabel_and_score(raw: Path, params: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc, out, _ = _cli(capsys, "distant", "--params", params, "-s", "distant.mode=relabel", "--data_dir", raw,
                      "--out", tmp_path / "lab", "--metrics", tmp_path / "m.json", "--report", tmp_path / "r.json")
    assert rc == 0 and "distant.mode=relabel" in out and (tmp_path / "lab" / DATA_FILES["silver"]).is_file()
    rc, out, _ = _cli(capsys, "distant", "--params", params, "--data_dir", raw, "--score",
                      raw / DATA_FILES["test_pubmed"], "--types", "Gene,Virus", "--output", tmp_path / "s.json")
    assert rc == 0 and "Gene" in out and "micro" in out
    s = json.loads((tmp_path / "s.json").read_text())
    # the test split holds held-out names the dictionaries lack: recall < 1; no acronym is gold there
    assert 0 < s["per_entity"]["Virus"]["recall"] < 1 and s["types"] == ["Gene", "Virus"]


BAD = [
    ("missing dictionary", ["-s", "distant.dictionaries={Virus: dictionaries/viruses.txt, Gene: nope.txt}"],
     "distant.dictionaries.Gene='{raw}/nope.txt': dictionary file not found"),
    ("type clashes with gold", ["-s", "distant.dictionaries={Chemical: dictionaries/genes.txt}"],
     "distant.dictionaries: type(s) ['Chemical'] are gold types"),
    ("type not a valid type name", ["-s", "distant.dictionaries={Gene-X: dictionaries/genes.txt}"],
     "distant.dictionaries={{'Gene-X': 'dictionaries/genes.txt'}}: invalid type name(s) ['Gene-X']; a type name is "
     "a letter followed by letters or digits"),
    ("dictionary types are not the silver types", ["-s", "distant.dictionaries={Virus: dictionaries/viruses.txt, "
                                                         "Gene: dictionaries/genes.txt, Species: species.txt}"],
     "distant.dictionaries types ['Virus', 'Gene', 'Species'] and sources.silver ['Virus', 'Gene'] disagree: no "
     "sources.silver entry for ['Species']"),
    ("stop list naming nothing", ["-s", "distant.stop=[ZZZ1, ZZZ2]"],
     "distant.stop: the stop list names nothing in the dictionaries"),
    ("duplicate across types", ["-s", "distant.dictionaries={Virus: dictionaries/genes.txt, "
                                      "Gene: dictionaries/genes.txt}"], "no Gene name is left after the clash rule"),
    ("priority not the types", ["-s", "distant.priority=[Gene]"], "distant.priority ['Gene'] must list each"),
    ("bad max_tokens", ["-s", "distant.max_tokens=0"], "distant.max_tokens=0: Input should be greater than or equal"),
]


@pytest.mark.parametrize(("args", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_cli_bad_input_exit_2_nothing_written(raw: Path, params: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                             args: list[str], message: str) -> None:
    before = _files(tmp_path)
    rc, out, err = _cli(capsys, "distant", "--params", params, "-s", "distant.mode=relabel", *args,
                        "--data_dir", raw, "--out", tmp_path / "lab", "--metrics", tmp_path / "m.json",
                        "--report", tmp_path / "r.json")
    assert rc == 2 and out == "", (out, err)
    (line,) = err.strip().splitlines()
    assert line.startswith("bioner distant: error: ") and message.format(raw=raw) in line, line
    assert _files(tmp_path) == before and not list(tmp_path.iterdir())


def test_cli_non_utf8_dictionary(raw: Path, params: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "genes.txt"
    bad.write_bytes(b"CD4\nIL\xff6\n")
    rc, _, err = _cli(capsys, "distant", "--params", params, "-s", "distant.mode=relabel", "-s",
                      f"distant.dictionaries={{Gene: {bad}}}", "-s", "sources.silver=[Gene]", "--data_dir", raw,
                      "--out", tmp_path / "lab",
                      "--metrics", tmp_path / "m.json", "--report", tmp_path / "r.json")
    assert rc == 2 and f"{bad}:2: not valid UTF-8" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["genes.txt"]


def test_settings_dictionaries_are_one_key() -> None:
    # a params file may list any set of dictionary types: the mapping is one setting, not one key per type
    assert "distant.dictionaries" in S.missing_keys({}) and "distant.dictionaries.Gene" not in S.missing_keys({})
    params = S.Settings().model_dump(mode="json")
    params["distant"]["dictionaries"] = {"Gene": "g.txt"}
    assert S.missing_keys(params) == [] and S.from_dict(params).distant.dictionaries == {"Gene": "g.txt"}
    params["distant"]["mode"] = "relabel"
    params["distant"]["dictionaries"] = {}
    with pytest.raises(S.SettingsError, match="distant.mode=relabel needs at least one entry"):
        S.from_dict(params)


def test_fetch_from_a_local_dir_brings_its_dictionaries(raw: Path, tmp_path: Path) -> None:
    from bioner.data.sources import fetch

    fetch(str(raw), tmp_path / "raw", repo="x/y", revision="main")
    for rel in DICTIONARIES:
        assert (tmp_path / "raw" / rel).read_bytes() == (raw / rel).read_bytes()
