"""BioNER-DS: one BERT-family token classifier for Chemical, Disease, Virus and Gene.

    from bioner import Tagger
    tagger = Tagger.load("models/best_model")
    tagger.predict(["SARS-CoV-2 binds ACE2 in lung cells."])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Span", "Tagger", "TaggerError"]

if TYPE_CHECKING:
    from .tagging.tagger import Span, Tagger, TaggerError


def __getattr__(name: str) -> Any:
    # lazy: `import bioner` (every CLI command) must not import torch and transformers
    if name in __all__:
        from .tagging import tagger

        return getattr(tagger, name)
    raise AttributeError(f"module 'bioner' has no attribute {name!r}")
