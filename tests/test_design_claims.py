"""docs/design.md's checkable claims about the code, read with `ast` (stage deps and layers: test_layout.py;
strategy names: test_strategies.py)."""

from __future__ import annotations

import ast

from bioner.settings.labels import SEED_TYPES
from layout_graph import modules

SETTINGS_MODULE = "bioner.settings.settings"
#: Where entity type names may be values: the seed defaults (labels' SEED_TYPES, the sections' default
#: dictionaries) and the synthetic sample corpus's vocabulary.
TYPE_DATA_MODULES = ("bioner.settings.labels", "bioner.settings.sections", "bioner.data.sample",
                     "bioner.data.sample_lexicon")


def _trees() -> dict[str, ast.Module]:
    return {m: ast.parse(p.read_text(encoding="utf-8")) for m, p in modules().items()}


def test_a_settings_object_is_built_only_by_the_settings_module() -> None:
    """`load()` (a params file + overrides) and `from_dict()` (a dict) are the two ways to a Settings."""
    builders = []
    for m, tree in _trees().items():
        if m == SETTINGS_MODULE:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name == "Settings" or name.endswith((".Settings", "Settings.model_validate",
                                                        "Settings.model_construct")):
                    builders.append(f"{m}:{node.lineno}: {name}")
    assert not builders, builders


def test_no_code_names_an_entity_type() -> None:
    """A type is data: outside the seed defaults and the sample vocabulary, no string value is a type name."""
    types = {*SEED_TYPES.gold, *SEED_TYPES.silver}
    named = [f"{m}:{node.lineno}: {node.value!r}" for m, tree in _trees().items() if m not in TYPE_DATA_MODULES
             for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in types]
    assert not named, named
