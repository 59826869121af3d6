"""The package's structure, read from the code with `ast`: no import circle, no arrow back up the layers, each
dvc.yaml stage's code deps are folders that hold exactly the code its command imports, short functions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from layout_graph import PKG, SRC, closure, imports, module_name, modules

ROOT = SRC.parent
#: The layers, bottom up: a module imports only modules of its own layer or a lower one. Top-level modules
#: (errors, hints) are the bottom; `bioner/__init__.py` (the public API) is the top.
LAYERS = ("errors", "hints", "io", "settings", "data", "scrape", "distant", "training", "tagging", "study", "cli")
CLI_MODULES = ("bioner.cli.pipeline", "bioner.cli.model")
MAX_FUNCTION_LINES = 60


def _layer(module: str) -> int:
    parts = module.split(".")
    return len(LAYERS) if len(parts) == 1 else LAYERS.index(parts[1])


def test_every_folder_and_top_level_module_has_a_layer() -> None:
    tops = {m.split(".")[1] for m in modules() if m != PKG}
    assert tops <= set(LAYERS), f"give {sorted(tops - set(LAYERS))} a place in LAYERS"


def test_no_import_circle() -> None:
    """Depth-first search over every import (lazy ones in functions too): a back edge is a circle."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(imports(m)):
            if n == PKG:
                continue
            if state.get(n) == 1:
                circles.append(path[path.index(n):] + [n])
            elif n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in sorted(modules()):
        if m not in state:
            visit(m, [m])
    assert not circles, [" -> ".join(c) for c in circles]


def test_no_arrow_back_up() -> None:
    up = [f"{m} -> {n}" for m in sorted(modules()) for n in sorted(imports(m)) if _layer(n) > _layer(m)]
    assert not up, up


def _stage_roots(cmd: str) -> list[str]:
    """What `bioner <sub>` runs: the package modules imported by `cmd_<sub>` and at the top of its CLI module."""
    sub = re.search(r"\bbioner (\w+)", cmd).group(1)
    for cli in CLI_MODULES:
        tree = ast.parse(modules()[cli].read_text(encoding="utf-8"))
        fn = next((f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == f"cmd_{sub}"), None)
        if fn is None:
            continue
        package = cli.rpartition(".")[0]
        found = set()
        for node in [*ast.walk(fn), *(n for n in tree.body if isinstance(n, ast.ImportFrom))]:
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
                found |= {t for t in [origin, *(f"{origin}.{a.name}" for a in node.names)] if t in modules()}
        return sorted(m for m in found if not m.startswith(f"{PKG}.cli"))
    raise AssertionError(f"no cmd_{sub} in {CLI_MODULES}")


def _code_unit(module: str) -> str:
    """The dep that covers a module: its folder under src/bioner, or the file of a top-level module."""
    parts = module.split(".")
    path = modules()[module]
    return f"src/{PKG}/{parts[1]}" if path.parent != SRC / PKG else f"src/{PKG}/{path.name}"


def test_stage_deps_are_folders_holding_exactly_the_code_the_stage_imports() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    problems = []
    for name, stage in stages.items():
        declared = {d for d in stage.get("deps", []) if d.startswith(f"src/{PKG}")}
        for d in declared:
            if not (ROOT / d).is_dir() and Path(d).parent != Path("src") / PKG:
                problems.append(f"{name}: {d} is a module inside a folder; name the folder")
        needed = {_code_unit(m) for m in closure(_stage_roots(stage["cmd"])) if m != PKG}
        if needed != declared:
            problems.append(f"{name}: missing {sorted(needed - declared)}, not imported {sorted(declared - needed)}")
    assert not problems, problems


def test_no_long_function() -> None:
    long = []
    for path in sorted((SRC / PKG).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{module_name(path)}.{node.name}: {n} lines")
    assert not long, long


def test_dvc_yaml_names_no_entity_type() -> None:
    """Types are data (params.yaml `sources`): a fifth type needs no dvc.yaml edit (the plots read a folder)."""
    from bioner.settings.labels import SEED_TYPES

    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    assert not [t for t in (*SEED_TYPES.gold, *SEED_TYPES.silver) if re.search(rf"\b{t}\b", text)]
