"""The import graph of src/bioner read with `ast` (no import runs): the structural tests' one reader."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "bioner"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package."""
    return {module_name(p): p for p in sorted((SRC / PKG).rglob("*.py"))}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


@cache
def imports(module: str) -> frozenset[str]:
    """The package's modules `module` imports, at any depth of its code (lazy imports in functions count),
    except under `if TYPE_CHECKING:` (annotations only, never run)."""
    path = modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [origin] + [f"{origin}.{a.name}" for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules() and t not in (module, PKG))  # bioner/__init__ always runs
    return frozenset(found)


def closure(roots: list[str]) -> set[str]:
    """`roots` and every module they import, directly or not, with the packages they live in. The top package's
    own imports are not followed: `bioner/__init__.py` only names the public API (`from bioner import Tagger`),
    imported on first use."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parts = m.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a.b.c runs a and a.b
        if m != PKG:
            todo += imports(m)
    return seen
