"""Typed dictionary sources in the settings (one-line errors), the content-hash stamp of every file the distant
settings name, `bioner validate`'s checks of those files, and `bioner distant --score` naming what it used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bioner.cli.pipeline import main
from bioner.distant.inputs import content_hashes, write_stamp
from bioner.settings import settings as S
from bioner.settings.dictionaries import HgncSource, ListSource, TaxdumpSource, parse_sources

ROOT = Path(__file__).resolve().parents[1]


def _settings(**distant: object) -> S.Settings:
    params = S.Settings().model_dump(mode="json")
    params["distant"].update(distant)
    return S.from_dict(params)


def test_sources_setting_shapes() -> None:
    s = _settings(dictionaries={"Virus": "v.txt", "Gene": [
        "g.txt", {"format": "hgnc", "path": "/x/hgnc.tsv", "fields": ["symbol", "alias"]},
        {"format": "ncbi_taxdump", "path": "taxdump.tar.gz", "root": 10239, "ranks": ["species"]}]})
    assert s.distant.dictionaries["Virus"] == "v.txt"  # a plain path still works, as written
    specs = parse_sources(s.distant.dictionaries["Gene"])
    assert [type(x) for x in specs] == [ListSource, HgncSource, TaxdumpSource]
    assert specs[1].fields == ("symbol", "alias") and specs[1].statuses == ("Approved",)
    assert S.from_dict(s.model_dump(mode="json")) == s  # dumps and loads back (dvc params)


@pytest.mark.parametrize(("value", "message"), [
    ({"format": "hgncx", "path": "a"}, "distant.dictionaries.Gene.format='hgncx': unknown source format; allowed: "
                                       "list, hgnc, ictv_vmr, ncbi_taxdump"),
    (["a.txt", {"format": "hgnc", "path": "a", "status": ["x"]}],
     "distant.dictionaries.Gene[1].status=['x']: unknown option for format hgnc; allowed: path, filters"),
    ({"format": "ictv_vmr", "path": "a", "ranks": ["genera"]}, "distant.dictionaries.Gene.ranks.0='genera': Input "
                                                             "should be 'realm'"),
    ({"format": "ncbi_taxdump", "path": "a", "name_classes": ["nickname"]}, "name_classes.0='nickname'"),
    ({"format": "hgnc"}, "distant.dictionaries.Gene.path: missing"),
    ([], "distant.dictionaries.Gene=[]: no source"),
    (3, "distant.dictionaries.Gene=3: allowed: a file path, or a mapping with format"),
])
def test_sources_setting_errors(value: object, message: str) -> None:
    with pytest.raises(S.SettingsError) as info:
        _settings(dictionaries={"Gene": value})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_filter_settings_are_checked() -> None:
    with pytest.raises(S.SettingsError, match=r"distant.clash='keep': not allowed"):
        _settings(clash="keep")
    with pytest.raises(S.SettingsError, match=r"distant.common_word_zipf=nan"):
        _settings(common_word_zipf=float("nan"))


def test_stamp_changes_exactly_when_a_named_file_does(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "genes.txt"  # an absolute path outside the data dir: no DVC dependency
    outside.parent.mkdir()
    outside.write_text("CD4\n", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "v.txt").write_text("HIV\n", encoding="utf-8")
    cfg = _settings(mode="relabel", dictionaries={"Virus": "v.txt", "Gene": [str(outside)]}).distant
    stamp = tmp_path / "stamp.json"
    assert write_stamp(stamp, cfg, data) == 2
    first = stamp.read_bytes()
    write_stamp(stamp, cfg, data)
    assert stamp.read_bytes() == first  # same content: DVC sees no change
    outside.write_text("CD4\nCD8\n", encoding="utf-8")
    write_stamp(stamp, cfg, data)
    assert stamp.read_bytes() != first
    assert str(tmp_path) not in stamp.read_text(encoding="utf-8")  # hashes only: the same on every machine
    write_stamp(stamp, _settings().distant, data)  # keep mode reads no dictionary
    assert json.loads(stamp.read_text(encoding="utf-8")) == {"mode": "keep", "files": {}}


def test_taxdump_folder_hashes_both_files(tmp_path: Path) -> None:
    d = tmp_path / "taxdump"
    d.mkdir()
    for name in ("names.dmp", "nodes.dmp"):
        (d / name).write_text("1\t|\t1\t|\tno rank\t|\n", encoding="utf-8")
    h = content_hashes({"Virus": {"format": "ncbi_taxdump", "path": str(d)}}, [], None)
    assert sorted(h) == ["Virus_names", "Virus_nodes"]


def test_distant_stage_depends_on_the_stamp() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    stamp = stages["distant_inputs"]
    assert stamp["always_changed"] is True and "--hash_inputs metrics/distant_inputs.json" in stamp["cmd"]
    assert "metrics/distant_inputs.json" in stages["distant"]["deps"]


def _cli(capsys: pytest.CaptureFixture, *args: str | Path) -> tuple[int, str, str]:
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_validate_checks_named_files_in_relabel_mode(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nope" / "hgnc.tsv"
    src = f"distant.dictionaries={{Virus: v.txt, Gene: {{format: hgnc, path: {missing}}}}}"
    rc, _, err = _cli(capsys, "validate", "-s", "distant.mode=relabel", "-s", src)
    assert rc == 2 and f"distant.dictionaries.Gene='{missing}': hgnc source file not found" in err
    rc, _, _ = _cli(capsys, "validate", "-s", src)  # keep mode reads no dictionary
    assert rc == 0
    bad = tmp_path / "hgnc.tsv"
    bad.write_text("id\tsymbol\n1\tACE2\n", encoding="utf-8")
    rc, _, err = _cli(capsys, "validate", "-s", "distant.mode=relabel", "-s", src.replace(str(missing), str(bad)))
    assert rc == 2 and f"{bad}:1: not an HGNC table" in err
    # relative paths: checked against a local data.source (what fetch copies), skipped for sample and hub
    data = tmp_path / "data"
    (data / "dictionaries").mkdir(parents=True)
    rel = "distant.dictionaries={Virus: dictionaries/v.txt, Gene: dictionaries/g.txt}"
    rc, _, _ = _cli(capsys, "validate", "-s", "distant.mode=relabel", "-s", rel)
    assert rc == 0
    rc, _, err = _cli(capsys, "validate", "-s", "distant.mode=relabel", "-s", rel, "-s", f"data.source={data}")
    assert rc == 2 and f"distant.dictionaries.Virus='{data}/dictionaries/v.txt': dictionary file not found" in err


def test_score_names_its_dictionaries_and_refuses_missing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    d = tmp_path / "data"
    d.mkdir()
    (d / "v.txt").write_text("HIV\n", encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"tokens": ["HIV", "and", "HBV"], "decoded_tags": ["O"] * 3,
                                "decoded_tags_pseudo_final": ["B-Virus", "O", "B-Virus"]}) + "\n", encoding="utf-8")
    rc, out, _ = _cli(capsys, "distant", "-s", "distant.dictionaries={Virus: v.txt}", "-s", "sources.silver=[Virus]",
                      "--data_dir", d, "--score", gold, "--types", "Virus", "--output", tmp_path / "s.json")
    assert rc == 0 and f"dictionary distant.dictionaries.Virus: {d}/v.txt (sha256 " in out
    assert json.loads((tmp_path / "s.json").read_text())["dictionaries"]["Virus"]["path"] == str(d / "v.txt")
    rc, out, err = _cli(capsys, "distant", "-s", "distant.dictionaries={Virus: v.txt}", "-s",
                        "sources.silver=[Virus]", "--data_dir", tmp_path / "other", "--score", gold)
    assert rc == 2 and out == "" and f"distant.dictionaries.Virus='{tmp_path}/other/v.txt': dictionary file " \
                                    "not found" in err


def test_fetch_copies_the_sources_of_a_local_data_dir(tmp_path: Path) -> None:
    from bioner.data.sample import write_sample_corpus
    from bioner.data.sources import fetch

    src = tmp_path / "src"
    write_sample_corpus(src, seed=0, sizes={"train": 5, "validation": 2, "test_bc5cdr": 2, "silver": 5,
                                            "test_pubmed": 2})
    (src / "resources" / "hgnc").mkdir(parents=True)
    (src / "resources" / "hgnc" / "hgnc_entries.tsv").write_text("HGNC ID\tApproved symbol\n", encoding="utf-8")
    fetch(str(src), tmp_path / "raw", repo="x/y", revision="main")
    assert (tmp_path / "raw" / "resources" / "hgnc" / "hgnc_entries.tsv").read_text(encoding="utf-8") == (
        "HGNC ID\tApproved symbol\n")
    assert (tmp_path / "raw" / "dictionaries" / "genes.txt").is_file()
