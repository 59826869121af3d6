"""Shared fixtures: offline, single-threaded torch, one sample corpus and one tiny backbone per session."""

from __future__ import annotations

import os

# Offline everywhere; one torch thread per test process (oversubscribed OpenMP threads are ~50x slower on
# 2 cores when anything else runs). Set before torch/transformers/huggingface_hub are imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic sample corpus (default sizes) in the Hub layout."""
    from bioner.sample import write_sample_corpus

    d = tmp_path_factory.mktemp("sample") / "raw"
    write_sample_corpus(d, seed=0)
    return d


@pytest.fixture(scope="session")
def small_sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample corpus for fast strategy smoke tests."""
    from bioner.sample import write_sample_corpus

    d = tmp_path_factory.mktemp("small_sample") / "raw"
    write_sample_corpus(d, seed=0, sizes={"train": 120, "validation": 40, "test_bc5cdr": 40, "silver": 240,
                                          "test_pubmed": 40})
    return d


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory, small_sample_dir: Path) -> Path:
    """A tiny random-init BERT + WordPiece vocab trained on the small sample."""
    from bioner.corpus import load_corpus
    from bioner.labels import DATA_FILES, FIELD_9TAG
    from bioner.modeling import build_tiny
    from bioner.settings import TinySettings

    texts = []
    for key in ("train", "silver"):
        texts += load_corpus(small_sample_dir / DATA_FILES[key], FIELD_9TAG).tokens
    return build_tiny(texts, tmp_path_factory.mktemp("tiny") / "backbone",
                      TinySettings(vocab_size=1000, hidden_size=32, num_layers=1, num_heads=2,
                                   intermediate_size=64), seed=0)
