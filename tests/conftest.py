"""Shared fixtures: offline, single-threaded torch, one sample corpus and one tiny backbone per session, and a
temporary git + DVC repository holding a copy of the working tree (`repo`).

Tests never touch the user's files: Hugging Face and DVC get their own home, cache and config dirs under a
session temp dir, every test runs in a temp working directory (dvclive looks for a DVC repo from there), and an
audit hook fails any test that opens or changes a file of the user's Hugging Face home, DVC config or this
repository's .dvc/ (`USER_FILES`).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Offline everywhere; one torch thread per test process (oversubscribed OpenMP threads are far slower when
# anything else runs: docs/benchmarks.md). Set before torch/transformers/huggingface_hub are imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

ROOT = Path(__file__).resolve().parents[1]
_HOME = Path.home()
#: what a test must never open or change: the user's Hugging Face home (token, cache), DVC's user/site dirs
#: and this checkout's DVC state
USER_FILES = tuple(str(p) for p in {
    Path(os.environ.get("HF_HOME") or _HOME / ".cache" / "huggingface").resolve(), _HOME / ".huggingface",
    Path(os.environ.get("DVC_GLOBAL_CONFIG_DIR") or _HOME / ".config" / "dvc"), Path("/var/tmp/dvc"),
    ROOT / ".dvc", _HOME / ".cache" / "matplotlib", _HOME / ".config" / "matplotlib"})
_ISOLATED = Path(tempfile.mkdtemp(prefix="bioner-tests-"))
atexit.register(shutil.rmtree, _ISOLATED, ignore_errors=True)
for _key in [k for k in os.environ if k.startswith(("HF_", "HUGGINGFACE_", "DVC_")) and k not in (
        "HF_HUB_OFFLINE", "HF_DATASETS_DISABLE_PROGRESS_BARS")]:
    del os.environ[_key]  # a token, cache or config location of the user's
os.environ.update(HF_HOME=str(_ISOLATED / "hf-home"), DVC_GLOBAL_CONFIG_DIR=str(_ISOLATED / "dvc-global"),
                  DVC_SYSTEM_CONFIG_DIR=str(_ISOLATED / "dvc-system"), DVC_SITE_CACHE_DIR=str(_ISOLATED / "dvc-site"),
                  DVC_NO_ANALYTICS="1")
# subprocesses' temp files (benchmarks, torchrun's torchelastic_*) go into the session dir too (this process's
# temp dir is already fixed: pytest's tmp_path stays where it is), matplotlib caches there, and git reads a
# config of its own, never ~/.gitconfig (commit.gpgsign=true there would fail every test commit)
(_ISOLATED / "tmp").mkdir()
(_ISOLATED / "gitconfig").write_text("[user]\n\tname = test\n\temail = test@example.org\n[commit]\n\tgpgsign = false\n"
                                     "[tag]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n", encoding="utf-8")
os.environ.update(TMPDIR=str(_ISOLATED / "tmp"), MPLCONFIGDIR=str(_ISOLATED / "matplotlib"),
                  GIT_CONFIG_GLOBAL=str(_ISOLATED / "gitconfig"))

#: (event, path) of every audited access to USER_FILES in this process (subprocesses inherit the environment)
TOUCHED: list[tuple[str, str]] = []
_EVENTS = {"open", "os.mkdir", "os.remove", "os.rename", "os.rmdir", "os.listdir", "os.scandir", "shutil.rmtree",
           "os.chmod", "os.truncate"}


#: files of this checkout a test may read: the tracked ones (the `repo` fixture copies the working tree), never
#: an untracked `.dvc/config.local` (credentials)
_TRACKED = frozenset(str(ROOT / f) for f in subprocess.run(
    ["git", "ls-files", "-z", "--", ".dvc"], cwd=ROOT, capture_output=True).stdout.decode().split("\0") if f)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _audit(event: str, args: tuple) -> None:
    if event not in _EVENTS or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = os.fsdecode(args[0])
    full = os.path.normpath(path if os.path.isabs(path) else os.path.join(os.getcwd(), path))
    if not any(full == root or full.startswith(root + os.sep) for root in USER_FILES):
        return
    reading = event == "open" and len(args) > 2 and isinstance(args[2], int) and not args[2] & _WRITE_FLAGS
    if not (reading and full in _TRACKED):
        TOUCHED.append((event, full))


sys.addaudithook(_audit)

import pytest  # noqa: E402
import yaml  # noqa: E402

pytest_plugins = ["reliability_fixtures"]  # the reliability tests' shared trained model

#: Fixtures that train a model, build a DVC repo or run a distributed job: a test that uses one is `slow` (left out
#: of `make test-fast`, run by `make test` and CI). Tests that start the CLI in a subprocess are marked by hand.
SLOW_FIXTURES = frozenset({"trained", "pickle_model", "evals", "trained_ckpt", "run", "ddp_run", "repo"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _temp_cwd(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The session runs in a temp working directory (set up before any module fixture)."""
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(cwd)


_checked = [0]  # TOUCHED entries already reported


@pytest.fixture(autouse=True)
def _no_user_files() -> object:
    """Fail the test if it (or a fixture set up for it) touched the user's files."""
    yield
    touched, _checked[0] = TOUCHED[_checked[0]:], len(TOUCHED)
    if touched:
        pytest.fail(f"the test touched the user's files: {sorted(set(touched))[:5]}")


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic sample corpus (default sizes) in the Hub layout."""
    from bioner.data.sample import write_sample_corpus

    d = tmp_path_factory.mktemp("sample") / "raw"
    write_sample_corpus(d, seed=0)
    return d


@pytest.fixture(scope="session")
def small_sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample corpus for fast strategy smoke tests."""
    from bioner.data.sample import write_sample_corpus

    d = tmp_path_factory.mktemp("small_sample") / "raw"
    write_sample_corpus(d, seed=0, sizes={"train": 120, "validation": 40, "test_bc5cdr": 40, "silver": 240,
                                          "test_pubmed": 40})
    return d


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory, small_sample_dir: Path) -> Path:
    """A tiny random-init BERT + WordPiece vocab trained on the small sample."""
    from bioner.data.corpus import load_corpus
    from bioner.settings.labels import DATA_FILES, FIELD_FULL
    from bioner.settings.sections import TinySettings
    from bioner.training.modeling import build_tiny

    texts = []
    for key in ("train", "silver"):
        texts += load_corpus(small_sample_dir / DATA_FILES[key], FIELD_FULL).tokens
    return build_tiny(texts, tmp_path_factory.mktemp("tiny") / "backbone",
                      TinySettings(vocab_size=1000, hidden_size=32, num_layers=1, num_heads=2,
                                   intermediate_size=64), seed=0)


# ---------------------------------------------------------------------------------------------------------------
# a temporary repository for the DVC workflow tests (test_pipeline, test_report_e2e)
#: A run of seconds on one CPU thread (the settings every experiment of the test shares).
SMALL = {
    "train": {"epochs": 1, "max_length": 64, "cpu_threads": 1, "phase2": {"epochs": 1}},
    "tiny": {"vocab_size": 1000, "hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64},
    "silver": {"ratio": "1"},
}


def _merge(base: dict, over: dict) -> None:
    for k, v in over.items():
        if isinstance(v, dict):
            _merge(base.setdefault(k, {}), v)
        else:
            base[k] = v


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # dvc, bioner
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", DVC_NO_ANALYTICS="1",
               GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.org", GIT_COMMITTER_NAME="test",
               GIT_COMMITTER_EMAIL="test@example.org")
    env.pop("PYTHONPATH", None)
    return env


class Repo:
    def __init__(self, path: Path) -> None:
        self.path, self.env = path, _env()

    def run(self, *cmd: str, check: bool = True) -> str:
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=self.path, env=self.env, capture_output=True, text=True, timeout=600)
        print(f"TIMING {time.monotonic() - t0:6.1f} s  {' '.join(cmd)}")
        out = proc.stdout + proc.stderr
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-4000:]}")
        return out

    def json(self, rel: str) -> dict:
        return json.loads((self.path / rel).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """The working tree as a fresh clone would see it, with the small params committed."""
    dest = tmp_path_factory.mktemp("pipeline") / "repo"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():  # listed but deleted in the working tree: skip
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    _merge(params, SMALL)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    r = Repo(dest)
    r.run("git", "init", "-q", "-b", "main")
    r.run("git", "add", "-A")
    r.run("git", "commit", "-q", "-m", "pipeline under test")
    return r
