"""`dvc exp show` as the README shows it, on the committed dvc.yaml, params.yaml and metrics: the metric
columns start with metrics.json's F1s, and each README `--keep` view fits 120 columns without cutting one."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    repo = tmp_path_factory.mktemp("exp_show") / "repo"
    repo.mkdir()
    for rel in ("dvc.yaml", "params.yaml"):
        shutil.copy2(ROOT / rel, repo / rel)
    shutil.copytree(ROOT / "metrics", repo / "metrics", ignore=shutil.ignore_patterns("training"))
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_COMMITTER_NAME="t",
               GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_EMAIL="t@example.org", DVC_NO_ANALYTICS="1")
    for cmd in (["git", "init", "-q", "-b", "main"], ["dvc", "init", "-q"], ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "x"]):
        subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True)
    return repo, env


def _exp_show(repo: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(["dvc", "exp", "show", "--no-pager", *args], cwd=repo, env=env, check=True,
                          capture_output=True, text=True, timeout=300).stdout


@pytest.mark.slow
def test_metric_columns_start_with_the_f1s(dvc_repo: tuple[Path, dict[str, str]]) -> None:
    header = next(csv.reader(io.StringIO(_exp_show(*dvc_repo, "--csv"))))
    metrics = header[header.index("parent") + 1:]
    assert metrics[:6] == ["bc5cdr_f1", "bc5cdr_f1_Chemical", "bc5cdr_f1_Disease", "pubmed_f1",
                           "pubmed_f1_Virus", "pubmed_f1_Gene"], header
    assert "relabelled" in header  # the distant stage's counts are still listed, after metrics.json's


README_VIEWS = re.findall(r"^dvc exp show --drop '\.\*' --keep '([^']+)'", (ROOT / "README.md").read_text(
    encoding="utf-8"), flags=re.M)


@pytest.mark.slow
@pytest.mark.parametrize("keep", README_VIEWS)
def test_readme_views_fit_120_columns(keep: str, dvc_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = dvc_repo
    shown = _exp_show(repo, {**env, "COLUMNS": "120"}, "--drop", ".*", "--keep", keep)
    assert "…" not in shown, shown  # rich's mark of a cut column
    wanted = [c for c in keep.split("|") if not any(ch in c for ch in ".*$")] + (
        ["bc5cdr_f1_Chemical", "pubmed_f1_Gene"] if "_f1_" in keep else ["bc5cdr_f1", "pubmed_f1"])
    assert all(c in shown for c in wanted), shown


def test_the_readme_has_both_views() -> None:
    assert len(README_VIEWS) == 2 and any("seed" in v and "_f1_" in v for v in README_VIEWS)
