"""The README takes a new user from `make demo` to `dvc exp run`: the environment is activated before the
first `dvc` or `bioner` command of its shell blocks (DVC runs each stage's `bioner` from PATH)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shell_lines(text: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [ln.strip() for block in blocks for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]


def test_readme_activates_the_venv_before_the_first_dvc_or_bioner_command() -> None:
    lines = _shell_lines((ROOT / "README.md").read_text(encoding="utf-8"))
    first_tool = next(i for i, ln in enumerate(lines) if re.match(r"(dvc|bioner)\b", ln))
    activate = [i for i, ln in enumerate(lines) if ln.startswith("source .venv/bin/activate")]
    assert activate and activate[0] < first_tool, lines[: first_tool + 1]


def test_make_demo_says_what_to_run_next() -> None:
    demo = re.search(r"^demo:.*?(?=^\S)", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.S | re.M)
    assert demo and "activate" in demo.group(0)


def test_make_test_shows_progress() -> None:
    """`make test` names each test as it starts (no silent minutes behind -q) and counts them."""
    recipe = re.search(r"^test:.*?(?=^\S)", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.S | re.M)
    pytest_line = next(ln for ln in recipe.group(0).splitlines() if "pytest" in ln)
    assert " -q" not in pytest_line and " -v" in pytest_line
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # tomllib needs Python 3.11
    assert re.search(r'^console_output_style = "count"', pyproject, flags=re.M)
