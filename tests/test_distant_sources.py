"""Dictionary source readers: HGNC (both layouts), the ICTV VMR workbook, an NCBI taxdump (folder and
tar.gz) and hand lists, each on a small fixture written here, and their one-line errors."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import openpyxl
import pytest

from bioner.distant.errors import DistantError
from bioner.distant.sources import read_source
from bioner.settings.dictionaries import HgncSource, IctvSource, ListSource, TaxdumpSource

CUSTOM_HEADER = ["HGNC ID", "Approved symbol", "Approved name", "Status", "Alias symbols", "NCBI Gene ID",
                 "Previous symbols", "Locus type"]
PC = "gene with protein product"
CUSTOM_ROWS = [
    ["HGNC:1", "ACE2", "angiotensin converting enzyme 2", "Approved", "ACEH, hACE2", "59272", "", PC],
    ["HGNC:2", "SARS1", "seryl-tRNA synthetase 1", "Approved", "SARS, SERRS", "6301", "SERS", PC],
    ["HGNC:3", "MIR21", "microRNA 21", "Approved", "", "406991", "MIRN21", "RNA, micro"],
    ["HGNC:4", "OLD1", "withdrawn gene", "Symbol Withdrawn", "OLDA", "", "", PC],
]


def _pairs(spec, path: Path) -> list[tuple[str, str | None]]:
    return [(n, i) for n, i, _ in read_source(spec, path)]


def _tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def test_hgnc_custom_download(tmp_path: Path) -> None:
    p = _tsv(tmp_path / "hgnc.tsv", CUSTOM_HEADER, CUSTOM_ROWS)
    spec = HgncSource(path=str(p))  # defaults: Approved, protein-coding, every name field
    assert _pairs(spec, p) == [
        ("ACE2", "HGNC:1"), ("ACEH", "HGNC:1"), ("hACE2", "HGNC:1"), ("angiotensin converting enzyme 2", "HGNC:1"),
        ("SARS1", "HGNC:2"), ("SARS", "HGNC:2"), ("SERRS", "HGNC:2"), ("SERS", "HGNC:2"),
        ("seryl-tRNA synthetase 1", "HGNC:2")]
    only = HgncSource(path=str(p), fields=("previous",), locus_types=(), statuses=("Approved", "Symbol Withdrawn"))
    assert _pairs(only, p) == [("SERS", "HGNC:2"), ("MIRN21", "HGNC:3")]
    assert _pairs(HgncSource(path=str(p), fields=("symbol",), statuses=("Symbol Withdrawn",)), p) == [
        ("OLD1", "HGNC:4")]


def test_hgnc_complete_set_layout(tmp_path: Path) -> None:
    header = ["hgnc_id", "symbol", "name", "locus_group", "locus_type", "status", "alias_symbol", "prev_symbol"]
    rows = [["HGNC:2", "SARS1", "seryl-tRNA synthetase 1", "protein-coding gene", "gene with protein product",
             "Approved", '"SARS|SERRS"', "SERS"],
            ["HGNC:3", "MIR21", "microRNA 21", "non-coding RNA", "RNA, micro", "Approved", "", "MIRN21"]]
    p = _tsv(tmp_path / "hgnc_complete_set.txt", header, rows)
    assert _pairs(HgncSource(path=str(p), fields=("symbol", "alias", "previous")), p) == [
        ("SARS1", "HGNC:2"), ("SARS", "HGNC:2"), ("SERRS", "HGNC:2"), ("SERS", "HGNC:2")]


def test_hgnc_unknown_header(tmp_path: Path) -> None:
    p = _tsv(tmp_path / "x.tsv", ["id", "gene"], [["1", "ACE2"]])
    with pytest.raises(DistantError, match=r"x.tsv:1: not an HGNC table: the header lacks the columns of either "
                                           r"layout \(custom download: HGNC ID, Approved symbol"):
        list(read_source(HgncSource(path=str(p)), p))


ICTV_HEADER = ["Isolate ID", "Family", "Subfamily", "Genus", "Species", "ICTV_ID", "Virus name(s)",
               "Virus name abbreviation(s)", "Host source"]


def _xlsx(path: Path, rows: list[list], sheet: str = "VMR MSL40", header: list[str] = ICTV_HEADER) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "Version"
    ws = wb.create_sheet(sheet)
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


ICTV_ROWS = [
    ["VMR1", "Coronaviridae", "Orthocoronavirinae", "Betacoronavirus", "Betacoronavirus pandemicum",
     '=HYPERLINK("https://ictv.global/taxonomy/taxondetails?taxnode_id=1","ICTV20240001")',
     "severe acute respiratory syndrome coronavirus 2", "SARS-CoV-2; SARS2", "vertebrates"],
    ["VMR2", "Coronaviridae", "Orthocoronavirinae", "Betacoronavirus", "Betacoronavirus pandemicum",
     '=HYPERLINK("https://ictv.global/taxonomy/taxondetails?taxnode_id=1","ICTV20240001")',
     "severe acute respiratory syndrome coronavirus", "SARS-CoV", "vertebrates"],
    ["VMR3", "Poxviridae", None, "Orthopoxvirus", "Orthopoxvirus variola", None, "variola virus", None, "vertebrates"],
]


def test_ictv_names_abbreviations_ranks_and_ids(tmp_path: Path) -> None:
    p = _xlsx(tmp_path / "vmr.xlsx", ICTV_ROWS)
    assert _pairs(IctvSource(path=str(p), ranks=("genus", "family")), p) == [
        ("severe acute respiratory syndrome coronavirus 2", "ICTV20240001"), ("SARS-CoV-2", "ICTV20240001"),
        ("SARS2", "ICTV20240001"), ("Betacoronavirus", "Betacoronavirus"), ("Coronaviridae", "Coronaviridae"),
        ("severe acute respiratory syndrome coronavirus", "ICTV20240001"), ("SARS-CoV", "ICTV20240001"),
        # no ICTV_ID: the species is the id; each (name, id) once
        ("variola virus", "Orthopoxvirus variola"), ("Orthopoxvirus", "Orthopoxvirus"), ("Poxviridae", "Poxviridae")]
    spec = IctvSource(path=str(p), fields=("abbreviation",), ranks=("species",))
    assert [n for n, _ in _pairs(spec, p)] == ["SARS-CoV-2", "SARS2", "Betacoronavirus pandemicum", "SARS-CoV",
                                              "Orthopoxvirus variola"]


def test_ictv_errors(tmp_path: Path) -> None:
    p = _xlsx(tmp_path / "other.xlsx", ICTV_ROWS, sheet="Sheet X")
    with pytest.raises(DistantError, match=r"no worksheet None \(sheets: Version, Sheet X\); set the source's"):
        list(read_source(IctvSource(path=str(p)), p))
    assert len(_pairs(IctvSource(path=str(p), sheet="Sheet X"), p)) == 10
    p = _xlsx(tmp_path / "nocol.xlsx", ICTV_ROWS, header=[h.replace("Genus", "Gen") for h in ICTV_HEADER])
    with pytest.raises(DistantError, match=r"sheet 'VMR MSL40' row 1 lacks the column\(s\) Genus"):
        list(read_source(IctvSource(path=str(p)), p))
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(DistantError, match=r"bad.xlsx: not an .xlsx workbook"):
        list(read_source(IctvSource(path=str(bad)), bad))


def _dmp(rows: list[tuple]) -> str:
    return "".join("\t|\t".join(map(str, r)) + "\t|\n" for r in rows)


NODES = [(1, 1, "no rank"), (2, 1, "superkingdom"), (10239, 1, "superkingdom"), (11118, 10239, "family"),
         (694002, 11118, "genus"), (2697049, 694002, "no rank"), (562, 2, "species")]
NAMES = [(10239, "Viruses", "", "scientific name"), (11118, "Coronaviridae", "", "scientific name"),
         (694002, "Betacoronavirus", "", "scientific name"),
         (2697049, "Severe acute respiratory syndrome coronavirus 2", "", "scientific name"),
         (2697049, "SARS-CoV-2", "", "acronym"), (2697049, "2019-nCoV", "", "synonym"),
         (562, "Escherichia coli", "", "scientific name"), (10239, "viruses", "", "blast name")]


def _taxdump_dir(d: Path) -> Path:
    d.mkdir()
    (d / "nodes.dmp").write_text(_dmp([(*n, "", "", "") for n in NODES]), encoding="utf-8")
    (d / "names.dmp").write_text(_dmp(NAMES), encoding="utf-8")
    return d


def _taxdump_tgz(d: Path, out: Path, names_first: bool = True) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        for name in (["names.dmp", "nodes.dmp"] if names_first else ["nodes.dmp", "names.dmp"]):
            data = (d / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_taxdump_folder_and_tar_gz(tmp_path: Path) -> None:
    d = _taxdump_dir(tmp_path / "taxdump")
    tgz = _taxdump_tgz(d, tmp_path / "taxdump.tar.gz")  # names.dmp first: nodes are read first all the same
    spec = TaxdumpSource(path=str(d), name_classes=("scientific name", "acronym"))
    want = [("Viruses", "10239"), ("Coronaviridae", "11118"), ("Betacoronavirus", "694002"),
            ("Severe acute respiratory syndrome coronavirus 2", "2697049"), ("SARS-CoV-2", "2697049")]
    assert _pairs(spec, d) == want  # E. coli (outside the subtree) and the blast name are left out
    assert _pairs(spec.model_copy(update={"path": str(tgz)}), tgz) == want
    sub = TaxdumpSource(path=str(d), root=694002, name_classes=("scientific name", "synonym"), ranks=("no rank",))
    assert _pairs(sub, d) == [("Severe acute respiratory syndrome coronavirus 2", "2697049"),
                              ("2019-nCoV", "2697049")]


def test_taxdump_errors(tmp_path: Path) -> None:
    d = _taxdump_dir(tmp_path / "taxdump")
    with pytest.raises(DistantError, match=r"root taxid 12345 is not in nodes.dmp"):
        list(read_source(TaxdumpSource(path=str(d), root=12345), d))
    (d / "names.dmp").unlink()
    with pytest.raises(DistantError, match=r"taxdump: no names.dmp in the taxdump folder"):
        list(read_source(TaxdumpSource(path=str(d)), d))
    (d / "nodes.dmp").write_text("10239\n", encoding="utf-8")
    with pytest.raises(DistantError, match=r"nodes.dmp:1: 1 field\(s\); a taxdump line has at least 3 fields"):
        list(read_source(TaxdumpSource(path=str(d)), d))
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DistantError, match=r"bad.tar.gz: not a readable taxdump archive"):
        list(read_source(TaxdumpSource(path=str(bad)), bad))


def test_hand_list_is_a_source(tmp_path: Path) -> None:
    p = tmp_path / "v.txt"
    p.write_text("# viruses\nHIV\n\nSARS-CoV-2\tNCBITaxon:2697049\n", encoding="utf-8")
    assert list(read_source(ListSource(path=str(p)), p)) == [("HIV", None, 2),
                                                             ("SARS-CoV-2", "NCBITaxon:2697049", 4)]
