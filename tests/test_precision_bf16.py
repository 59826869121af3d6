"""`Tagger.load(precision="bf16")` / `bioner predict --precision bf16`: the model in bfloat16 where the hardware
has native bf16, refused in one line elsewhere (torch would emulate it, slower than fp32)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bioner.cli.pipeline import main
from bioner.data.corpus import load_corpus
from bioner.settings.labels import SEED_TYPES
from bioner.tagging import precision as P
from bioner.tagging.tagger import Tagger
from bioner.training.modeling import load_for_training, load_tokenizer


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory, tiny_backbone: Path) -> Path:
    dest = tmp_path_factory.mktemp("bf16") / "ckpt"
    torch.manual_seed(0)
    model = load_for_training(tiny_backbone, SEED_TYPES.scheme("gold+silver").label2id)
    with torch.no_grad():  # a decisive head: the argmax does not hinge on the last bits of a near tie
        model.classifier.weight.mul_(50)
    model.save_pretrained(dest)
    load_tokenizer(tiny_backbone).save_pretrained(dest)
    return dest


def test_bf16_model_tags_like_fp32(ckpt: Path, small_sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "cpu_has_bf16", lambda: True)
    sents = load_corpus(small_sample_dir / "bc5cdr" / "bc5cdr_test.jsonl", "decoded_tags").tokens
    fp32 = Tagger.load(ckpt, device="cpu")
    bf16 = Tagger.load(ckpt, device="cpu", precision="bf16")
    assert bf16.precision == "bf16" and {p.dtype for p in bf16.model.parameters()} == {torch.bfloat16}
    a = [lab for p in fp32.tag_words(sents) for lab in p.labels]
    b = [lab for p in bf16.tag_words(sents) for lab in p.labels]
    assert sum(x == y for x, y in zip(a, b, strict=True)) / len(a) > 0.95, (a[:20], b[:20])
    assert all(isinstance(s.score, float) for ss in bf16.predict(["Cisplatin-induced nephrotoxicity ."])
               for s in ss)


def test_bf16_is_refused_without_native_support(ckpt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(P, "cpu_has_bf16", lambda: False)
    with pytest.raises(P.PrecisionError, match="native bf16"):
        Tagger.load(ckpt, device="cpu", precision="bf16")
    inp = tmp_path / "in.txt"
    inp.write_text("IL-6 rose .\n", encoding="utf-8")
    rc = main(["predict", "--checkpoint", str(ckpt), "--input", str(inp), "--output", str(tmp_path / "o.jsonl"),
               "--device", "cpu", "--precision", "bf16"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "AVX512-BF16" in err, err
    assert not (tmp_path / "o.jsonl").exists()


def test_bf16_and_int8_exclude_each_other(ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "cpu_has_bf16", lambda: True)
    with pytest.raises(P.PrecisionError, match="exclude each other"):
        Tagger.load(ckpt, precision="bf16", quantize="int8")
    with pytest.raises(P.PrecisionError, match="allowed values are fp32, bf16"):
        Tagger.load(ckpt, precision="fp16")


def test_cpu_flags_decide(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert not P.cpu_has_bf16(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert P.cpu_has_bf16(info) == P.sys.platform.startswith("linux")
