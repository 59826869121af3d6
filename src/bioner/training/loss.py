"""The token loss of every strategy: per-token cross-entropy, or the partial-label loss for O tokens.

Hand-written (not the model's own loss) because it is the only place the per-example silver weight and the
partial-label masks can act; the Trainer subclass in trainer.py sums it and divides by the labelled tokens.
"""

from __future__ import annotations

import torch

from ..settings.labels import LabelScheme
from .align import IGNORE


def label_masks(scheme: LabelScheme, annotated: dict[int, tuple[str, ...]]) -> torch.Tensor:
    """[n_sources, n_labels] bool: labels an O token of each source may really be.

    A source that does not annotate type T cannot tell O from T: its O tokens allow O, B-T and I-T.
    """
    n = len(scheme.label2id)
    masks = torch.zeros(max(annotated) + 1, n, dtype=torch.bool)
    for src, types in annotated.items():
        masks[src, scheme.label2id["O"]] = True
        for label, i in scheme.label2id.items():
            if label != "O" and label[2:] not in types:
                masks[src, i] = True
    return masks


def token_losses(logits: torch.Tensor, labels: torch.Tensor, source: torch.Tensor | None = None,
                 o_masks: torch.Tensor | None = None, o_id: int = 0) -> torch.Tensor:
    """Per-token loss [B, L] (0 where label is -100).

    Without `o_masks`: cross-entropy. With it (partial labels): for an O token of source s the loss is
    -log sum_{l allowed for s} p(l), so moving probability between O and a type s does not annotate costs
    nothing; other tokens keep plain cross-entropy.
    """
    logp = torch.log_softmax(logits.float(), dim=-1)
    valid = labels.ne(IGNORE)
    safe = labels.clamp(min=0)
    nll = -logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    if o_masks is not None and source is not None:
        allowed = o_masks.to(logits.device)[source]  # [B, C]
        partial = -torch.logsumexp(logp.masked_fill(~allowed[:, None, :], float("-inf")), dim=-1)
        nll = torch.where(labels.eq(o_id), partial, nll)
    return nll * valid
