"""Tests and benchmarks clean up after themselves: benchmark scratch dirs are removed when the script exits,
subprocesses' temp files and matplotlib's cache stay in the session dir, and git never reads ~/.gitconfig."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_scratch_dirs_are_removed_at_exit(tmp_path: Path) -> None:
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import common; d = common.scratch_dir('bench_x_'); "
            "(d / 'f').write_text('x'); print(d); raise SystemExit(3)")  # an error exit cleans up too
    env = dict(os.environ, TMPDIR=str(tmp_path))
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert p.returncode == 3 and Path(p.stdout.strip()).parent == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_no_benchmark_makes_a_temp_dir_it_does_not_remove() -> None:
    """Every top-level mkdtemp goes through common.scratch_dir (mkdtemp(dir=...) inside one is fine)."""
    offenders = [f"{p.name}:{i}" for p in sorted((ROOT / "benchmarks").glob("*.py")) if p.name != "common.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"mkdtemp\((?!dir=)", line)]
    assert offenders == []


def test_subprocess_temp_files_and_matplotlib_stay_in_the_session_dir() -> None:
    session = Path(os.environ["HF_HOME"]).parent  # conftest's isolated session dir
    p = subprocess.run([sys.executable, "-c", "import tempfile; print(tempfile.gettempdir())"],
                       capture_output=True, text=True, check=True)
    assert Path(p.stdout.strip()).is_relative_to(session)
    assert not Path(tempfile.gettempdir()).is_relative_to(session)  # pytest's own tmp_path is left alone
    import matplotlib

    assert Path(matplotlib.get_cachedir()).is_relative_to(session)


def test_git_ignores_a_signing_gitconfig_in_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[commit]\n\tgpgsign = true\n[user]\n\tsigningkey = NOKEY\n")
    env = dict(os.environ, HOME=str(home))
    repo = tmp_path / "repo"
    for cmd in (["git", "init", "-q", str(repo)], ["git", "-C", str(repo), "commit", "-q", "--allow-empty",
                                                   "-m", "x"]):
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
