"""The one model factory: backbone alias/id/path -> (fast tokenizer, token-classification model).

Loading rules: fast tokenizers only, safetensors only unless explicitly allowed, trust_remote_code never.
Training enters here once (`prepare_backbone`); evaluate and predict through `load_checkpoint`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    BertConfig,
    BertModel,
    PreTrainedModel,
    PreTrainedTokenizerFast,
    set_seed,
)

from ..io.atomic import filling, plain_modes, replace_dir, temp_dir
from ..settings.backbones import BackboneError, minilm_path, offline_alternatives
from ..settings.labels import CONFIG_TYPES_KEY
from ..settings.sections import TinySettings
from ..settings.settings import Settings, model_id

log = logging.getLogger(__name__)


def resolve_backbone(backbone: str) -> str:
    """Alias -> HF id or local path. `tiny` is not resolvable here (it is built from data: build_tiny)."""
    if backbone == "minilm":
        return str(minilm_path())
    return model_id(backbone)


def build_tiny(texts: Iterable[list[str]], out_dir: str | Path, cfg: TinySettings, seed: int,
               max_position: int = 512) -> Path:
    """Build the random-init `tiny` BERT: WordPiece vocab trained on `texts`, weights seeded by `seed`.

    Saved like any pretrained backbone (config + safetensors + fast tokenizer), so it loads through the same
    `load_for_training` path. Same texts, settings and seed -> the same vocab and the same weights.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    out_dir = Path(out_dir)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    sentences = [" ".join(words) for words in texts]
    # tokenizers' WordPiece/BPE trainer is not deterministic (huggingface/tokenizers#1794): it gives the
    # "##c" continuation pieces ids in hash-map order, and those ids break ties between merges. Listing every
    # "##c" up front, sorted, fixes their ids and so the whole vocab; the list is dropped again below.
    cont = sorted({c for sent in sentences
                   for piece, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(sent))
                   for c in piece[1:]})
    trainer = trainers.WordPieceTrainer(vocab_size=cfg.vocab_size, special_tokens=specials + [f"##{c}" for c in cont],
                                        min_frequency=2, show_progress=False)  # its bars: blank lines in logs
    trained = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    trained.normalizer, trained.pre_tokenizer = normalizer, pre_tokenizer
    trained.train_from_iterator(sentences, trainer=trainer)
    # rebuild from the trained vocab so that only the five real special tokens are special (added) tokens
    tok = Tokenizer(models.WordPiece(vocab=trained.get_vocab(), unk_token="[UNK]"))
    tok.normalizer, tok.pre_tokenizer, tok.decoder = normalizer, pre_tokenizer, decoders.WordPiece()
    tok.add_special_tokens(specials)
    from tokenizers import processors

    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    # transformers 5: BertTokenizerFast(vocab_file=...) silently ignores the file; wrap the trained object.
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=max_position,
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads, intermediate_size=cfg.intermediate_size,
        max_position_embeddings=max_position, pad_token_id=tok.token_to_id("[PAD]"),
    )
    torch.manual_seed(seed)
    model = BertModel(config, add_pooling_layer=False)
    tmp = temp_dir(out_dir)
    try:
        with filling(tmp, out_dir, existed=False, also=(SafetensorError,)):
            model.save_pretrained(tmp)
            fast.save_pretrained(tmp)
            plain_modes(tmp)
        replace_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def load_tokenizer(name_or_path: str | Path) -> PreTrainedTokenizerFast:
    try:
        tok = AutoTokenizer.from_pretrained(str(name_or_path), use_fast=True, trust_remote_code=False)
    except OSError as err:
        raise BackboneError(_load_hint(name_or_path, err)) from None
    if not getattr(tok, "is_fast", False):
        raise BackboneError(f"{name_or_path}: only fast tokenizers are supported (word_ids() is needed)")
    if len(tok) <= 10:
        raise BackboneError(f"{name_or_path}: tokenizer has only {len(tok)} tokens; its vocab did not load")
    return tok


def _load_hint(name: str | Path, err: Exception) -> str:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    return (f"cannot load backbone {name!s}: {first}. "
            + ("HF_HUB_OFFLINE=1 is set: only cached models and local paths load. " if offline else "")
            + offline_alternatives() + ".")


def check_safe_checkpoint(path: str | Path, allow_pickle: bool = False) -> None:
    """Refuse a local checkpoint that only has pickle weights (pytorch_model.bin), unless allowed."""
    path = Path(path)
    if not path.is_dir():
        return  # a Hub id; from_pretrained(use_safetensors=True) enforces safetensors there
    has_st = any(path.glob("*.safetensors"))
    has_pickle = any(path.glob("pytorch_model*.bin")) or any(path.glob("*.pt"))
    if not has_st and has_pickle and not allow_pickle:
        raise BackboneError(
            f"{path}: holds only pickle weights (pytorch_model.bin), which can run arbitrary code when loaded. "
            "Convert it to safetensors, or pass --allow_pickle if you trust its origin."
        )
    if not has_st and not has_pickle and not (path / "config.json").is_file():
        raise BackboneError(f"{path}: no model here (no config.json / *.safetensors). Fix: point at a "
                            "directory written by `bioner train` (e.g. models/best_model)")


def load_for_training(name_or_path: str | Path, label2id: dict[str, int],
                      allow_pickle: bool = False) -> PreTrainedModel:
    """Token-classification model with a fresh head for `label2id` on the given backbone."""
    check_safe_checkpoint(name_or_path, allow_pickle)
    id2label = {i: lab for lab, i in label2id.items()}
    try:
        return AutoModelForTokenClassification.from_pretrained(
            str(name_or_path), num_labels=len(label2id), id2label=id2label, label2id=label2id,
            use_safetensors=not allow_pickle, trust_remote_code=False, ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError) as err:
        raise BackboneError(_load_hint(name_or_path, err)) from None


def load_checkpoint(path: str | Path, allow_pickle: bool = False,
                    ) -> tuple[PreTrainedTokenizerFast, PreTrainedModel]:
    """A trained checkpoint (models/best_model): tokenizer + model with its own label maps, in eval mode.

    Any failure to load it (a file instead of a directory, corrupt weights or config) is a one-line
    BackboneError naming the checkpoint; `bioner -v` logs the traceback.
    """
    path = Path(path)
    fix = "Fix: pass the directory `bioner train` wrote (e.g. models/best_model)"
    if not path.exists():
        raise BackboneError(f"{path}: checkpoint directory not found. {fix}")
    if not path.is_dir():
        raise BackboneError(f"{path}: is a file, not a checkpoint directory. {fix}")
    check_safe_checkpoint(path, allow_pickle)
    try:
        tok = AutoTokenizer.from_pretrained(str(path), use_fast=True, trust_remote_code=False)
        model = AutoModelForTokenClassification.from_pretrained(
            str(path), use_safetensors=not allow_pickle, trust_remote_code=False)
    except Exception as err:  # noqa: BLE001 - whatever a damaged file raises (UnpicklingError, SafetensorError,
        # JSONDecodeError, IndexError from a garbled pickle, ...): the user needs the path and the cause
        log.debug("loading checkpoint %s failed", path, exc_info=True)
        if isinstance(err, pickle.UnpicklingError):  # torch.load(weights_only=True) refused a global
            raise BackboneError(f"{path}: refused to load its pickle weights: they hold objects other than "
                                "tensors, which could run code (nothing was run). Fix: use a safetensors "
                                "checkpoint from a source you trust") from None
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise BackboneError(f"{path}: cannot load the checkpoint ({type(err).__name__}: {first[:300]}); its "
                            "files are damaged or not a token-classification model. Fix: re-create it with "
                            "`bioner train` or restore it (`dvc pull`)") from None
    if not getattr(tok, "is_fast", False) or len(tok) <= 10:
        raise BackboneError(f"{path}: the checkpoint's tokenizer did not load as a fast tokenizer with a vocab")
    model.eval()
    return tok, model


@dataclass
class Backbone:
    """What training starts from: where the backbone lives, its tokenizer and a fresh token classifier."""

    location: str  # Hub id or local directory (the built `tiny` directory for backbone=tiny)
    tokenizer: PreTrainedTokenizerFast
    model: PreTrainedModel


def prepare_backbone(s: Settings, tiny_texts: Callable[[], list[list[str]]], tiny_dir: Path,
                     build_guard: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
                     ) -> Backbone:
    """Training's one entry: resolve (or, for `tiny`, build once into `tiny_dir` from `tiny_texts()`) the
    backbone, load its tokenizer and a model with a fresh head for the strategy's label view (its config also
    records the run's gold and silver types).

    `build_guard` wraps the `tiny` build (under DDP: rank 0 first, the others then load its result). The head is
    initialised right after `set_seed(s.seed)`, so the model depends only on the settings and the backbone.
    The backbone itself was checked by the caller (`check_backbone`, before any data work).
    """
    if s.is_random_init:
        with build_guard():
            if not (tiny_dir / "model.safetensors").is_file():
                texts = tiny_texts()
                log.info("building the tiny backbone: WordPiece vocab (%d) on %d sentences", s.tiny.vocab_size,
                         len(texts))
                build_tiny(texts, tiny_dir, s.tiny, s.seed, max_position=max(512, s.train.max_length))
        location = str(tiny_dir)
    else:
        location = resolve_backbone(s.backbone)
    tokenizer = load_tokenizer(location)
    set_seed(s.seed)
    model = load_for_training(location, s.scheme.label2id)
    # saved in config.json beside id2label/label2id: evaluate reads the run's gold/silver split from the checkpoint
    setattr(model.config, CONFIG_TYPES_KEY, s.entity_types.as_config())
    return Backbone(location, tokenizer, model)
