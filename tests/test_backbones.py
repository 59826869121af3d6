"""Backbone checks before any work (bioner.settings.backbones) and hints in the syntax of the command run (issue
17.6)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from bioner import hints
from bioner.cli.pipeline import main
from bioner.settings import backbones
from bioner.settings.backbones import BackboneError, check_backbone


@pytest.fixture(autouse=True)
def _library_hints() -> None:
    yield
    hints.use_command(None)  # what other tests' library calls expect: the `dvc exp run -S` syntax


@pytest.fixture
def online_without_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Offline mode off, the Hub at a closed local port (connections refused), an empty HF cache; returns it."""
    from huggingface_hub import constants

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed on exit: nothing listens there
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        f"http://127.0.0.1:{port}/{{repo_id}}/resolve/{{revision}}/{{filename}}")
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    for var in ("DVC_STAGE", "DVC_ROOT"):
        monkeypatch.delenv(var, raising=False)
    yield cache
    constants.HF_HUB_OFFLINE = True  # conftest's setting; go_offline may have set it, monkeypatch restores it


def _cache_model(cache: Path, repo_id: str) -> None:
    """What huggingface_hub leaves after downloading config.json of `repo_id` (refs/main -> a snapshot)."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    sha = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(sha)
    snap = repo / "snapshots" / sha
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")


def test_unreachable_hub_fails_at_once_without_retries(online_without_hub: Path) -> None:
    hints.use_command({})  # a command without a --backbone flag
    t0 = time.monotonic()
    with pytest.raises(BackboneError) as exc:
        check_backbone("no-org/no-model")
    assert time.monotonic() - t0 < 5  # one probe, no retries with backoff (they took ~60 s)
    msg = str(exc.value)
    assert "cannot be reached" in msg and "not in the local Hugging Face cache" in msg
    assert "-s backbone=tiny" in msg


def test_unreachable_hub_with_a_cached_model_goes_offline(online_without_hub: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from huggingface_hub import constants

    _cache_model(online_without_hub, "some-org/cached-model")
    check_backbone("some-org/cached-model")  # no error: the cache is used
    assert os.environ["HF_HUB_OFFLINE"] == "1" and constants.HF_HUB_OFFLINE
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # restored by monkeypatch after the test


def test_hint_syntax_follows_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DVC_STAGE", "DVC_ROOT"):
        monkeypatch.delenv(var, raising=False)
    hints.use_command({"backbone": "--backbone"})
    assert hints.override("backbone", "tiny") == "--backbone tiny"
    assert hints.override("data.source", "sample") == "-s data.source=sample"
    monkeypatch.setenv("DVC_STAGE", "train")  # a pipeline stage: the user typed `dvc exp run -S ...`
    assert hints.override("backbone", "tiny") == "-S backbone=tiny"


@pytest.mark.parametrize(("argv", "hint"), [
    (["train", "--config", "config_5_joint_uniform"], "--backbone tiny"),
    (["fetch", "--source", "hub"], "--source sample"),
])
def test_cli_hints_name_flags_the_cli_takes(argv: list[str], hint: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DVC_STAGE", "DVC_ROOT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no params.yaml: defaults
    assert main([*argv, "--params", str(Path(__file__).parents[1] / "params.yaml")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and hint in err and "-S " not in err


def test_hub_warnings_print_once(tmp_path: Path) -> None:
    """huggingface_hub logs through its own handler and, by default, also through the root logger's."""
    import subprocess
    import sys

    params = Path(__file__).parents[1] / "params.yaml"
    code = ("import logging; from bioner.cli import main; import huggingface_hub.utils.logging; "
            f"main(['train', '--backbone', 'no-org/x', '--params', {str(params)!r}]); "
            "logging.getLogger('huggingface_hub.utils._http').warning('retrying once')")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path).stderr
    assert err.count("retrying once") == 1, err


def test_backbone_checks_do_not_import_torch() -> None:
    import subprocess
    import sys

    code = ("import sys; from bioner.settings.backbones import check_backbone; check_backbone('tiny'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert backbones.PROBE_TIMEOUT_S <= 10
