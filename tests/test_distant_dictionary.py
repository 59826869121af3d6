"""Name files (bioner.distant.dictionary): corpus tokenisation, comments, TSV ids, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bioner.data.corpus import CorpusError
from bioner.distant.dictionary import inline_names, read_names, tokenize_name
from bioner.distant.errors import DistantError


def _write(tmp_path: Path, text: str | bytes, name: str = "names.txt") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def test_tokenised_like_the_corpus() -> None:
    # word runs; every other character alone (the BC5CDR / silver corpus convention)
    assert tokenize_name("IL-2") == ("IL", "-", "2")
    assert tokenize_name("IL - 2") == tokenize_name("IL -2") == ("IL", "-", "2")
    assert tokenize_name("hepatitis B virus") == ("hepatitis", "B", "virus")
    assert tokenize_name("PI3K_68D cDNA") == ("PI3K", "_", "68D", "cDNA")  # the corpus splits "_" too
    assert tokenize_name("TNF-α") == ("TNF", "-", "α")
    assert tokenize_name("p53(+/+)") == ("p53", "(", "+", "/", "+", ")")


def test_reads_names_comments_ids_bom_crlf(tmp_path: Path) -> None:
    p = _write(tmp_path, b"\xef\xbb\xbf# genes\r\nHIV-1\r\n\r\n  # indented comment\nEFIA # 1\n"
                         b"insulin receptor\tHGNC:6091\nCD4\t\n")
    names = read_names(p)
    assert [n.text for n in names] == ["HIV-1", "EFIA # 1", "insulin receptor", "CD4"]
    assert [n.line for n in names] == [2, 5, 6, 7]
    assert names[1].tokens == ("EFIA", "#", "1")  # a '#' inside a name is part of it
    assert names[2].canonical_id == "HGNC:6091" and names[0].canonical_id is None
    assert names[3].canonical_id is None  # an empty id column is no id


@pytest.mark.parametrize(("content", "message"), [
    (b"HIV\nbad \xff name\n", r"names\.txt:2: not valid UTF-8 \(invalid start byte at byte 4\)"),
    (b"HIV\nname\tID:1\textra\n", r"names\.txt:2: 3 tab-separated fields; a dictionary line is a name or "
                                  r"name<TAB>canonical id"),
    (b"HIV\n\tHGNC:5\n", r"names\.txt:2: the name '' tokenises to no word"),
    (b"HIV\n- / -\n", r"names\.txt:2: the name '- / -' \(tokens \['-', '/', '-'\]\) tokenises to no word"),
    (b"# only a comment\n\n   \n", r"names\.txt:1: dictionary names nothing"),
    (b"", r"names\.txt:1: dictionary names nothing"),
])
def test_bad_files_one_line_errors(tmp_path: Path, content: bytes, message: str) -> None:
    p = _write(tmp_path, content)
    with pytest.raises(DistantError, match=message) as info:
        read_names(p)
    assert "\n" not in str(info.value) and "Fix: " in str(info.value)
    assert isinstance(info.value, CorpusError)  # the CLI prints it as one line, exit code 2


def test_missing_file_names_the_param(tmp_path: Path) -> None:
    with pytest.raises(DistantError, match=r"distant.dictionaries.Gene='.*nope.txt': dictionary file not found"):
        read_names(tmp_path / "nope.txt", param="distant.dictionaries.Gene")
    with pytest.raises(DistantError, match=r"stop list file is a directory"):
        read_names(tmp_path, what="stop list", param="distant.stop")


def test_stop_list_has_no_ids(tmp_path: Path) -> None:
    p = _write(tmp_path, "ER\nRT\tx\n")
    with pytest.raises(DistantError, match=r"names\.txt:2: 2 tab-separated fields; a stop list line is one name"):
        read_names(p, what="stop list", allow_ids=False)


def test_inline_names() -> None:
    names = inline_names(["ER", " RT "], "distant.stop")
    assert [(n.text, n.line) for n in names] == [("ER", 1), ("RT", 2)]
    assert inline_names([], "distant.stop") == []
    with pytest.raises(DistantError, match=r"distant.stop\[1\]: the name '' tokenises to no word"):
        inline_names(["ER", ""], "distant.stop")
    with pytest.raises(DistantError, match=r"distant.stop\[0\]=3: not a string"):
        inline_names([3], "distant.stop")  # type: ignore[list-item]
