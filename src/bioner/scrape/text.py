"""Plain-text documents: a .txt file (one document a line) or a folder of .txt files (one document a file)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..io.jsonl import text_lines
from .errors import ScrapeError
from .inputs import input_files


@dataclass(frozen=True)
class TextDocument:
    """One document: its id (`file:line` or the file's path relative to the folder) and its text."""

    doc_id: str
    text: str


def text_files(path: Path) -> list[Path]:
    """The .txt files of `path` (a file, or every *.txt under a folder, sorted); ScrapeError if none."""
    return input_files(path, lambda p: p.suffix == ".txt", "a .txt file (one document a line) or a folder of .txt "
                       "files", ".txt", recursive=True)


def read_documents(path: str | Path) -> Iterator[TextDocument]:
    """Documents of `path`, streamed; invalid UTF-8 is a ScrapeError naming the file and line."""
    path = Path(path)
    if path.is_file():
        with open(path, "rb") as fh:
            for lineno, line, _ in text_lines(fh, path, ScrapeError):
                yield TextDocument(f"{path.name}:{lineno}", line.strip())
        return
    for f in text_files(path):
        with open(f, "rb") as fh:
            text = " ".join(line.strip() for _, line, _ in text_lines(fh, f, ScrapeError))
        if text:
            yield TextDocument(str(f.relative_to(path)), text)
