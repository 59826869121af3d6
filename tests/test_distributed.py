"""One experiment on several processes: `train.launcher: torchrun` runs HF Trainer DDP, here 2 CPU processes on gloo.

The end-to-end case drives the real command line in a subprocess (`bioner train -s train.launcher=torchrun -s
train.nproc=2`, the same command line as the DVC stage) on the small sample with a very small `tiny` backbone,
then checks the outputs, the data shards each rank saw (recorded by tests/ddp_hooks/sitecustomize.py, put on the
subprocesses' PYTHONPATH) and that `bioner evaluate` scores the model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from bioner.cli.pipeline import torchrun_command
from bioner.settings import settings as S
from bioner.tagging.evaluation import evaluate
from bioner.training.trainer import EpochSeededLengthGroupedSampler

BATCH = 12  # 120 gold + 240 silver = 360 examples = 30 batches: 15 per rank, no batch padded across ranks
N_TRAIN = 360
TINY = ["tiny.vocab_size=1000", "tiny.hidden_size=32", "tiny.num_layers=1", "tiny.num_heads=2",
        "tiny.intermediate_size=64"]
HOOKS = Path(__file__).resolve().parent / "ddp_hooks"
DIST_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
             "TORCHELASTIC_RUN_ID", "BIONER_TORCHRUN_ARGS")


def _bioner() -> list[str]:
    """The `bioner` console script of this environment (what the DVC stage runs)."""
    script = Path(sys.executable).with_name("bioner")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bioner.cli"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DIST_VARS}
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               HF_DATASETS_DISABLE_PROGRESS_BARS="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(HOOKS), env.get("PYTHONPATH"))))
    return env


def _run(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_bioner(), *args], cwd=cwd, env=_env(**extra), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory: pytest.TempPathFactory, small_sample_dir: Path) -> dict:
    """One 2-process training run (1.5 epochs: the second epoch's shards are recorded too)."""
    cwd = tmp_path_factory.mktemp("ddp")
    sets = [*TINY, "strategy=joint_uniform", "train.epochs=1.5", f"train.batch_size={BATCH}",
            "train.max_length=64", "train.launcher=torchrun", "train.nproc=2"]
    args = ["train", "--data_dir", str(small_sample_dir), "--silver_dir", "no_silver_stage",
            "--output_dir", "models", "--work_dir", "work", "--live_dir", "dvclive"]
    for item in sets:
        args += ["-s", item]
    proc = _run(args, cwd, BIONER_TEST_SHARDS="1")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return {"cwd": cwd, "proc": proc}


@pytest.mark.slow
def test_one_set_of_outputs(ddp_run: dict) -> None:
    cwd, proc = ddp_run["cwd"], ddp_run["proc"]
    assert "train.launcher=torchrun" in proc.stderr and "--nproc-per-node=2" in proc.stderr
    assert proc.stdout.count("best validation F1") == 1  # one summary line, printed by rank 0 only
    assert sorted(p.name for p in cwd.iterdir()) == ["dvclive", "models", "work"]
    assert sorted(p.name for p in (cwd / "models").iterdir()) == ["best_model", "config_snapshot.yaml"]
    best = cwd / "models" / "best_model"
    for name in ("model.safetensors", "config.json", "tokenizer.json", "bioner.json"):
        assert (best / name).is_file(), name
    # nothing written per rank outside the work dir's debug shard files (no rank-suffixed duplicates)
    everything = [p for p in cwd.rglob("*") if "shards_rank" not in p.name]
    assert not [p for p in everything if "rank" in p.name.lower() and "rng_state" not in p.name]
    assert not [p for p in everything if ".tmp" in p.name]
    assert (cwd / "dvclive" / "metrics.json").is_file()


@pytest.mark.slow
def test_effective_batch_and_lr_logged(ddp_run: dict) -> None:
    cwd = ddp_run["cwd"]
    snap = yaml.safe_load((cwd / "models" / "config_snapshot.yaml").read_text())
    res = snap["resolved"]
    assert res["world_size"] == 2
    assert res["effective_batch_size"] == BATCH * 2
    assert res["learning_rate"] == snap["train"]["auto_lr_random_init"]
    params = yaml.safe_load((cwd / "dvclive" / "params.yaml").read_text())
    assert params == {"world_size": 2, "learning_rate": res["learning_rate"], "effective_batch_size": BATCH * 2}


@pytest.mark.slow
def test_ranks_see_disjoint_shards_every_epoch(ddp_run: dict) -> None:
    cwd = ddp_run["cwd"]
    files = sorted((cwd / "work").glob("*/phase1/shards_rank*.json"))
    assert [f.name for f in files] == ["shards_rank0.json", "shards_rank1.json"]
    r0, r1 = (json.loads(f.read_text()) for f in files)
    assert sorted(r0) == sorted(r1) == ["0", "1"]
    for epoch in ("0", "1"):
        a, b = r0[epoch], r1[epoch]
        assert len(a) == len(b) == N_TRAIN // 2
        assert not set(a) & set(b), f"epoch {epoch}: ranks share examples"
        assert set(a) | set(b) == set(range(N_TRAIN)), f"epoch {epoch}: examples skipped"
    assert r0["0"] != r0["1"]  # reshuffled each epoch


@pytest.mark.slow
def test_ddp_model_evaluates(ddp_run: dict, small_sample_dir: Path) -> None:
    cwd = ddp_run["cwd"]
    proc = _run(["evaluate", "--checkpoint", "models/best_model", "--test_set", "test_bc5cdr", "--data_dir",
                 str(small_sample_dir), "--output", "eval/bc5cdr.json"], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((cwd / "eval" / "bc5cdr.json").read_text())
    assert res["sentences"] == 40 and res["micro"]["support"] > 0
    # the model the two processes saved scores the same in this process: one consistent checkpoint
    here = evaluate(cwd / "models" / "best_model", "test_bc5cdr", data_dir=small_sample_dir)
    assert res["micro"] == here["micro"] and res["per_entity"] == here["per_entity"]


# ---------------------------------------------------------------------------------------------------------------
def _settings(**train: object) -> S.Settings:
    return S.from_dict({"train": train})


def test_launcher_command(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in DIST_VARS:
        monkeypatch.delenv(var, raising=False)
    argv = ["-v", "train", "--output_dir", "models", "-s", "train.launcher=torchrun"]
    assert torchrun_command(_settings(), argv) is None  # launcher none: train here
    cmd = torchrun_command(_settings(launcher="torchrun", nproc=3), argv)
    assert cmd is not None
    assert cmd[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert "--standalone" in cmd and "--nproc-per-node=3" in cmd  # free port: parallel experiments never clash
    assert cmd[-len(argv) - 2:] == ["-m", "bioner.cli", *argv]  # the same command line, unchanged
    monkeypatch.setenv("BIONER_TORCHRUN_ARGS", "--nnodes=2 --rdzv-backend=c10d --rdzv-endpoint=node0:29400")
    cmd = torchrun_command(_settings(launcher="torchrun", nproc=4), argv)
    assert cmd is not None and "--standalone" not in cmd and "--rdzv-endpoint=node0:29400" in cmd
    monkeypatch.setenv("LOCAL_RANK", "0")  # already a torchrun worker: never launch again
    assert torchrun_command(_settings(launcher="torchrun", nproc=4), argv) is None


def test_epoch_seeded_sampler_ignores_global_rng() -> None:
    lengths = [(i * 37) % 50 + 3 for i in range(200)]

    def order(epoch: int, global_seed: int) -> list[int]:
        torch.manual_seed(global_seed)  # ranks' global RNGs drift apart (dropout on different batch shapes)
        s = EpochSeededLengthGroupedSampler(8, lengths, seed=42)
        s.set_epoch(epoch)
        return list(s)

    assert order(0, 1) == order(0, 2)
    assert order(1, 1) == order(1, 3)
    assert order(0, 1) != order(1, 1)
    assert sorted(order(1, 1)) == list(range(200))
