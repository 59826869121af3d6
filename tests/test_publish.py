"""`bioner publish` and `Tagger.load(<Hub id>)` against a fake Hub over real HTTP (tests/hub_server.py):
publish -> load back -> identical predictions; one commit; the token never leaves the Authorization header;
unauthenticated, refused, failing and malformed publishes upload nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bioner.cli.pipeline import main
from hub_server import FakeModelHub

TOKEN = "hf_fakeTOKEN0123456789abcdefSECRET"
REPO = "lab/bioner-tiny"
SENTS = [["Cisplatin", "induced", "nephrotoxicity", "in", "patients"], ["SARS", "-", "CoV", "-", "2", "binds", "ACE2"],
         ["no", "entity", "here"]]
TEXTS = ["Cisplatin induced nephrotoxicity and hepatitis B virus infection.", "ACE2 binds SARS-CoV-2."]

# One interpreter per test (HF_ENDPOINT must be set before huggingface_hub is imported): runs `steps` in order.
# {"cli": argv}: bioner.cli.pipeline.main, its stdout/stderr captured; {"load": id, "revision": r, "inputs": [...]}:
# Tagger.load + predict, or the TaggerError; {"publish": kwargs}: bioner.tagging.publish.publish, or the PublishError;
# {"setenv": {...}}: change the environment (HF_TOKEN is read at each request).
_STEPS = """
import contextlib, io, json, logging, sys
logging.basicConfig(stream=sys.__stderr__)
from bioner.cli import main
out = []
for step in json.loads(sys.argv[1]):
    if "cli" in step:
        o, e = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            rc = main(step["cli"])
        out.append({"rc": rc, "out": o.getvalue(), "err": e.getvalue()})
    elif "load" in step:
        from bioner import Tagger
        from bioner.tagging.tagger import TaggerError
        try:
            t = Tagger.load(step["load"], revision=step.get("revision"))
            out.append({"spans": [[s.to_dict() for s in x] for x in t.predict(step["inputs"])]})
        except TaggerError as err:
            out.append({"error": type(err).__name__ + ": " + str(err)})
    elif "setenv" in step:
        import os
        os.environ.update(step["setenv"])
    else:
        from bioner.tagging.publish import PublishError, publish
        try:
            out.append({"result": publish(**step["publish"])})
        except PublishError as err:
            out.append({"error": str(err)})
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, small_sample_dir: Path, tiny_backbone: Path) -> dict[str, Path]:
    """A real `bioner train` run (joint_uniform, 2 epochs), scored and aggregated: checkpoint + snapshot + metrics."""
    from bioner.settings import settings as S
    from bioner.training.run import train

    root = tmp_path_factory.mktemp("run")
    s = S.from_dict({"strategy": "joint_uniform", "backbone": str(tiny_backbone), "seed": 42,
                     "train": {"epochs": 2, "learning_rate": 5e-3}})
    train(s, root / "models", data_dir=small_sample_dir, silver_dir=None, work_dir=root / "work")
    assert main(["evaluate", "--checkpoint", str(root / "models" / "best_model"), "--test_set", "test_bc5cdr",
                 "--test_set", "test_pubmed", "--data_dir", str(small_sample_dir),
                 "--output_dir", str(root / "metrics" / "eval")]) == 0
    assert main(["aggregate", "--model_dir", str(root / "models"), "--metrics_dir", str(root / "metrics"),
                 "--plots_dir", str(root / "plots")]) == 0
    return {"root": root, "model": root / "models" / "best_model", "metrics": root / "metrics" / "metrics.json"}


@pytest.fixture
def hub() -> Iterator[FakeModelHub]:
    h = FakeModelHub(TOKEN).start()
    yield h
    h.stop()


def _env(tmp: Path, endpoint: str, token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp / "hf-home"), HF_HUB_OFFLINE="0", OMP_NUM_THREADS="1",
               HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1")
    if token is not None:
        env["HF_TOKEN"] = token
    return env


def _steps(tmp: Path, endpoint: str, token: str | None, steps: list[dict]) -> tuple[list[dict], str]:
    """Run `steps` in a fresh interpreter against `endpoint`; (results, everything it printed)."""
    p = subprocess.run([sys.executable, "-c", _STEPS, json.dumps(steps, default=str)],
                       env=_env(tmp, endpoint, token), cwd=tmp, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    return res, p.stdout + p.stderr + "".join(r.get("out", "") + r.get("err", "") for r in res)


def test_publish_load_back_identical_predictions(run: dict[str, Path], hub: FakeModelHub, tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    from bioner import Tagger

    local = Tagger.load(run["model"], device="cpu")
    want = [[s.to_dict() for s in x] for x in local.predict([*SENTS, *TEXTS])]
    assert any(want), "the model should find entities, or the comparison means little"
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"tokens": s}) + "\n" for s in SENTS))
    assert main(["predict", "--checkpoint", str(run["model"]), "--input", str(inp), "--output",
                 str(tmp_path / "local.jsonl")]) == 0
    publish = ["publish", "--checkpoint", str(run["model"]), "--repo", REPO]
    res, printed = _steps(tmp_path, hub.endpoint, TOKEN, [
        {"cli": [*publish, "--private", "--metrics", str(run["metrics"])]},
        {"load": REPO, "inputs": [*SENTS, *TEXTS]},
        {"cli": [*publish, "--revision", "v1"]},
        {"load": REPO, "revision": "v1", "inputs": [*SENTS, *TEXTS]},
        {"cli": ["predict", "--checkpoint", REPO, "--revision", "v1", "--input", str(inp),
                 "--output", str(tmp_path / "hub.jsonl")]},
    ])
    pub_main, by_name, pub_v1, pinned, predicted = res
    assert pub_main["rc"] == 0 and pub_v1["rc"] == 0 and predicted["rc"] == 0, printed[-3000:]
    assert TOKEN not in printed  # never printed or logged
    assert f"to {REPO} (revision main, commit " in pub_main["out"] and "(revision v1, commit" in pub_v1["out"]
    # publish -> load back: identical spans, by name (private repo: the token from HF_TOKEN) and pinned to v1
    assert by_name == {"spans": want} and pinned == {"spans": want}
    assert (tmp_path / "hub.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()

    repo = hub.repos[REPO]
    assert repo.private and len(repo.history) == 3  # the initial commit + ONE commit per publish
    files = hub.files(REPO)
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "bioner.json",
            "README.md"} <= set(files)
    assert not any(name.endswith((".bin", ".pt")) for name in files)
    for name, data in files.items():
        if name not in (".gitattributes", "README.md"):
            assert data == (run["model"] / name).read_bytes(), name
        assert TOKEN.encode() not in data  # not in the card, the params or any file
    assert hub.auth_seen and all(a == f"Bearer {TOKEN}" for a in hub.auth_seen)  # only ever in the header

    card = ModelCard(files["README.md"].decode())
    assert card.data.pipeline_tag == "token-classification" and card.data.library_name == "transformers"
    assert {"Chemical", "Disease", "Virus", "Gene"} <= set(card.data.tags)
    text = card.text
    metrics = json.loads(run["metrics"].read_text())
    assert f"| bc5cdr | Chemical | {metrics['bc5cdr_precision_Chemical']:.4f}" in text
    assert "| pubmed | Gene |" in text and "1 seed: 42" in text
    for needle in ("`B-Virus`", "strategy: joint_uniform", "learning_rate:", 'Tagger.load("lab/bioner-tiny")',
                   'pipeline("token-classification", model="lab/bioner-tiny", aggregation_strategy="first")',
                   "synthetic sample corpus", "silver", "gold for Chemical and Disease only", "## Intended use"):
        assert needle in text, needle
    assert "No test scores were given" in hub.files(REPO, "v1")["README.md"].decode()


def test_publish_checks_before_any_request(run: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing may be sent anywhere
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)

    def fails(*extra: str | Path) -> str:
        assert main(["publish", "--checkpoint", str(run["model"]), *map(str, extra)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("bioner publish: error: ")
        return lines[0]

    assert "not logged in to the Hugging Face Hub: run `hf auth login` or set HF_TOKEN" in fails("--repo", REPO)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert "--repo 'lab/bad name!': not a valid Hub repo id" in fails("--repo", "lab/bad name!")
    assert "expected owner/name" in fails("--repo", "just-a-name")
    assert "config snapshot not found" in fails("--repo", REPO, "--config_snapshot", tmp_path / "no.yaml")
    other = tmp_path / "metrics"
    other.mkdir()
    (other / "metrics.json").write_text(run["metrics"].read_text())
    (other / "config_snapshot.yaml").write_text("strategy: joint_uniform\nbackbone: tiny\nrun:\n  fingerprint: abc\n")
    assert "belongs to another run (fingerprint abc" in fails("--repo", REPO, "--metrics", other / "metrics.json")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert "HF_HUB_OFFLINE=1 is set: publishing needs the network" in fails("--repo", REPO)


def test_refused_token_and_failed_commit_upload_nothing(run: dict[str, Path], hub: FakeModelHub,
                                                         tmp_path: Path) -> None:
    kw = {"checkpoint": str(run["model"]), "repo_id": REPO}
    hub.fail_commits = 1  # the commit request fails (HTTP 500) once the token is right
    (refused, failed), printed = _steps(tmp_path, hub.endpoint, "hf_wrong_token", [
        {"publish": kw}, {"setenv": {"HF_TOKEN": TOKEN}}, {"publish": kw}])
    assert "refused the token" in refused["error"] and "HTTP 401" in refused["error"]
    assert "hf_wrong_token" not in printed and TOKEN not in printed
    assert "Nothing was uploaded" in failed["error"] and "500" in failed["error"]
    # the repo was created (empty) by the second try, but holds no file of ours: one commit, all or nothing
    assert hub.repos[REPO].history == ["initial commit"] and set(hub.files(REPO)) == {".gitattributes"}


def test_hub_model_errors_are_one_line(hub: FakeModelHub, run: dict[str, Path], tmp_path: Path) -> None:
    import socket

    res, _ = _steps(tmp_path, hub.endpoint, TOKEN, [
        {"publish": {"checkpoint": str(run["model"]), "repo_id": REPO}},
        {"load": "lab/no-such-model", "inputs": ["x"]},
        {"load": REPO, "revision": "v9", "inputs": ["x"]},
    ])
    assert "result" in res[0]
    assert res[1]["error"].startswith("HubError: lab/no-such-model: checkpoint directory not found, and no Hub "
                                      "model 'lab/no-such-model'")
    assert res[2]["error"] == ("HubError: lab/bioner-tiny: revision 'v9' not found in that Hub model; pass an "
                               "existing branch, tag or commit sha (--revision)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    (tmp_path / "in.txt").write_text("x\n")
    (unreachable, cli), _ = _steps(tmp_path, closed, None, [
        {"load": REPO, "inputs": ["x"]},
        {"cli": ["predict", "--checkpoint", REPO, "--input", str(tmp_path / "in.txt"),
                 "--output", str(tmp_path / "o.jsonl")]}])
    assert "the Hugging Face Hub is unreachable" in unreachable["error"]
    assert cli["rc"] == 2 and len(cli["err"].strip().splitlines()) == 1
    assert cli["err"].startswith("bioner predict: error: lab/bioner-tiny: checkpoint directory not found; as a Hub "
                                 "model id it cannot be downloaded")
    assert not (tmp_path / "o.jsonl").exists()
