"""Reliability rows of the tagger, in the style of tests/test_reliability_*.py: bad checkpoints (label map
missing or inconsistent), quantizing where it cannot run, devices that are not there, Hub ids offline, bad
evaluate --test_file input. Each row drives `bioner.cli.pipeline.main` and the Python API: exit code 2 and one line for
the CLI, a typed exception for the API, and no output file written. The Hub-over-HTTP rows (missing repo or
revision, unreachable Hub, unauthenticated / refused / failing publish) are in tests/test_publish.py;
docs/reliability.md lists them all."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bioner.cli.pipeline import main
from bioner.settings.labels import SEED_TYPES

LABEL2ID_9TAG = SEED_TYPES.scheme("gold+silver").label2id
LABELS = list(LABEL2ID_9TAG)


@pytest.fixture(scope="module")
def good_ckpt(tmp_path_factory: pytest.TempPathFactory, tiny_backbone: Path) -> Path:
    from bioner.training.modeling import load_for_training, load_tokenizer

    dest = tmp_path_factory.mktemp("ckpt") / "best_model"
    load_for_training(tiny_backbone, LABEL2ID_9TAG).save_pretrained(dest)
    load_tokenizer(tiny_backbone).save_pretrained(dest)
    return dest


def _id2label(labels: list[str]) -> dict[str, str]:
    return {str(i): lab for i, lab in enumerate(labels)}


def _swap(cfg: dict, **kv: object) -> None:
    cfg.update(kv)


#: case -> (edit of config.json, phrase of the one-line message)
LABEL_MAP_CASES: dict[str, tuple[Callable[[dict], None], str]] = {
    "no_label_map": (lambda c: [c.pop("id2label"), c.pop("label2id")], "config.json has no label map (id2label)"),
    "placeholder_labels": (lambda c: _swap(c, id2label=_id2label([f"LABEL_{i}" for i in range(9)]),
                                           label2id=None), "has only transformers' placeholder labels"),
    "not_bio": (lambda c: _swap(c, id2label=_id2label([*LABELS[:7], "Gene", "I-Gene"]), label2id=None),
                "labels ['Gene'] are not O, B-<type> or I-<type>"),
    "b_without_i": (lambda c: _swap(c, id2label=_id2label([*LABELS[:8], "I-Protein"]), label2id=None),
                    "types ['Gene', 'Protein'] have a B- label without an I- label"),
    "ids_not_contiguous": (lambda c: _swap(c, id2label={**_id2label(LABELS[:8]), "9": "I-Gene"}, label2id=None),
                           "id2label ids [0, 1, 2, 3, 4, 5, 6, 7, 9] are not 0..8"),
    "duplicate_label": (lambda c: _swap(c, id2label=_id2label([*LABELS[:8], "B-Gene"]), label2id=None),
                        "labels ['B-Gene'] appear twice"),
    "label2id_inconsistent": (lambda c: _swap(c, label2id={**LABEL2ID_9TAG, "B-Gene": 8, "I-Gene": 7}),
                              "label2id {"),
}


@pytest.mark.parametrize("case", list(LABEL_MAP_CASES))
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_bad_label_map_is_refused(case: str, command: str, good_ckpt: Path, tmp_path: Path, small_sample_dir: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from bioner.tagging.load import CheckpointError
    from bioner.tagging.tagger import Tagger

    ckpt = shutil.copytree(good_ckpt, tmp_path / "best_model")
    cfg = json.loads((ckpt / "config.json").read_text())
    edit, phrase = LABEL_MAP_CASES[case]
    edit(cfg)
    cfg = {k: v for k, v in cfg.items() if v is not None}
    (ckpt / "config.json").write_text(json.dumps(cfg))
    out = tmp_path / "out" / "result"
    inp = tmp_path / "in.txt"
    inp.write_text("IL-6 levels rose.\n")
    argv = (["predict", "--checkpoint", ckpt, "--input", inp, "--output", out] if command == "predict" else
            ["evaluate", "--checkpoint", ckpt, "--test_set", "test_bc5cdr", "--data_dir", small_sample_dir,
             "--output", out])
    assert main([str(a) for a in argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bioner {command}: error: {ckpt}: config.json"), lines
    assert phrase in lines[0] and "Fix:" in lines[0]
    assert not (tmp_path / "out").exists()
    with pytest.raises(CheckpointError, match="config.json"):
        Tagger.load(ckpt)


def _one_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bioner {command}: error: "), lines
    return lines[0]


def test_quantize_where_it_cannot_run(good_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from bioner.tagging.load import QuantizeError
    from bioner.tagging.tagger import Tagger

    inp = tmp_path / "in.txt"
    inp.write_text("IL-6 levels rose.\n")
    out = tmp_path / "out.jsonl"
    for device in ("cuda", "cuda:1", "mps"):  # checked before CUDA/MPS availability and before loading
        assert main(["predict", "--checkpoint", str(good_ckpt), "--input", str(inp), "--output", str(out),
                     "--quantize", "int8", "--device", device]) == 2
        msg = _one_line(capsys, "predict")
        assert "quantize='int8' (PyTorch dynamic quantization) runs on CPU only" in msg and device in msg
        with pytest.raises(QuantizeError, match="runs on CPU only"):
            Tagger.load(good_ckpt, quantize="int8", device=device)
    with pytest.raises(QuantizeError, match="quantize='int4': allowed values are int8 or None"):
        Tagger.load(good_ckpt, quantize="int4")
    assert main(["predict", "--checkpoint", str(good_ckpt), "--input", str(inp), "--output", str(out),
                 "--quantize", "int4"]) == 2  # argparse choices
    assert "invalid choice: 'int4'" in capsys.readouterr().err
    # a torch build without quantized CPU kernels
    monkeypatch.setattr(type(torch.backends.quantized), "supported_engines", property(lambda self: ["none"]))
    assert main(["predict", "--checkpoint", str(good_ckpt), "--input", str(inp), "--output", str(out),
                 "--quantize", "int8"]) == 2
    assert "this torch build has no quantized CPU kernels" in _one_line(capsys, "predict")
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="the machine has CUDA")
def test_device_that_is_not_there(good_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = tmp_path / "in.txt"
    inp.write_text("IL-6 levels rose.\n")
    assert main(["predict", "--checkpoint", str(good_ckpt), "--input", str(inp), "--output",
                 str(tmp_path / "o.jsonl"), "--device", "cuda"]) == 2
    assert "device 'cuda': CUDA is not available" in _one_line(capsys, "predict")
    assert main(["predict", "--checkpoint", str(good_ckpt), "--input", str(inp), "--output",
                 str(tmp_path / "o.jsonl"), "--device", "tpu9"]) == 2
    assert "device 'tpu9'" in _one_line(capsys, "predict")


def test_hub_id_offline_and_revision_of_a_path(good_ckpt: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from bioner.tagging.load import HubError
    from bioner.tagging.tagger import Tagger, TaggerError

    inp = tmp_path / "in.txt"
    inp.write_text("IL-6 levels rose.\n")
    # conftest sets HF_HUB_OFFLINE=1: a Hub id that is not cached cannot load, and says what to do
    assert main(["predict", "--checkpoint", "lab/not-cached", "--input", str(inp), "--output",
                 str(tmp_path / "o.jsonl")]) == 2
    msg = _one_line(capsys, "predict")
    assert "lab/not-cached: checkpoint directory not found; as a Hub model id it is not in the local Hugging " \
           "Face cache, and HF_HUB_OFFLINE=1 forbids downloading it" in msg
    with pytest.raises(HubError, match="HF_HUB_OFFLINE=1"):
        Tagger.load("lab/not-cached")
    with pytest.raises(TaggerError, match="applies to Hub model ids only"):
        Tagger.load(good_ckpt, revision="v1")
    assert main(["predict", "--checkpoint", "bad//name", "--input", str(inp), "--output",
                 str(tmp_path / "o.jsonl")]) == 2
    assert "bad//name: checkpoint directory not found. Fix:" in _one_line(capsys, "predict")
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(("content", "phrase"), [
    ('{"tokens": ["a"], "decoded_tags_pseudo_final": ["O"]}\n{"tokens": ["b"\n', "gold.jsonl:2: bad JSON"),
    ('{"tokens": ["a"], "decoded_tags": ["O"]}\n', "gold.jsonl:1: missing field 'decoded_tags_pseudo_final'"),
    ('{"tokens": ["a"], "decoded_tags_pseudo_final": ["Gene"]}\n', "gold.jsonl:1: invalid label(s) ['Gene']"),
    ("", "gold.jsonl:1: file is empty"),
], ids=["bad_json", "missing_field", "malformed_label", "empty"])
def test_test_file_errors_name_the_line(content: str, phrase: str, good_ckpt: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(content)
    out, conll = tmp_path / "r" / "res.json", tmp_path / "r" / "res.conll"
    assert main(["evaluate", "--checkpoint", str(good_ckpt), "--test_file", str(gold), "--types", "Gene",
                 "--output", str(out), "--conll", str(conll)]) == 2
    assert phrase in _one_line(capsys, "evaluate")
    assert not (tmp_path / "r").exists()


def test_evaluate_flag_combinations(good_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["evaluate", "--checkpoint", str(good_ckpt)]
    assert main(base) == 2  # no flag: every test set of the settings, here missing from the default --data_dir
    assert "bc5cdr/bc5cdr_test.jsonl: file not found" in _one_line(capsys, "evaluate")
    assert main([*base, "--test_set", "test_bc5cdr", "--test_file", "x.jsonl"]) == 2
    assert "not both" in _one_line(capsys, "evaluate")
    assert main([*base, "--test_file", "x.jsonl", "--output_dir", str(tmp_path)]) == 2
    assert "with --test_file use --output FILE" in _one_line(capsys, "evaluate")
    assert main([*base, "--test_set", "test_bc5cdr", "--test_set", "test_pubmed", "--conll", "c.txt"]) == 2
    assert "--conll names one file but 2 test sets" in _one_line(capsys, "evaluate")
