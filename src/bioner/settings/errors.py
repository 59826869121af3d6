"""One-line messages for bad settings: pydantic's validation errors -> `key=value: problem; allowed: ...`.

Kept apart from the schema (bioner.settings) so the schema reads at a glance. Every function takes the root
model, so nothing here imports the schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

_BOUND_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_BOUND_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def _walk(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[list[str], Any, Any]:
    """(dotted key parts, model holding the last settings key of `loc`, its FieldInfo or None).

    Stops below a leaf setting, where pydantic appends union-branch tags such as 'float' or "literal['auto']".
    """
    parts: list[str] = []
    model: Any = root
    holder, fld = root, None
    entry: Any = None  # the model of a {name: section} setting's values: the next part is a name, not a field
    for p in loc:
        if model is None and entry is None:
            break
        parts.append(str(p))
        if entry is not None:
            model, entry = entry, None
            continue
        holder = model
        fld = model.model_fields.get(p) if isinstance(p, str) else None
        ann = fld.annotation if fld is not None else None
        if get_origin(ann) is dict and _is_model(get_args(ann)[1]):
            model, entry = None, get_args(ann)[1]
            continue
        model = ann if _is_model(ann) else None
    return parts, holder, fld


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _allowed_range(fld: Any) -> str | None:
    """Every numeric bound of a setting ('> 0 and <= 1'), so the message names the whole allowed range."""
    if fld is None:
        return None
    bounds = [f"{op} {getattr(m, k)}" for m in fld.metadata for k, op in _BOUND_OPS.items()
              if getattr(m, k, None) is not None]
    return " and ".join(bounds) or None


def format_validation_error(err: ValidationError, root: type[BaseModel]) -> str:
    """`invalid settings: key=value: problem[; key=value: problem]`, one entry per key."""
    by_key: dict[str, tuple[Any, list[str]]] = {}
    for e in err.errors():
        parts, holder, fld = _walk(root, e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = ("unknown key (check the spelling against params.yaml); allowed keys here: "
                   + ", ".join(holder.model_fields))
        elif e["type"] == "literal_error":
            msg = f"not allowed; {msg.lower()}"
        elif e["type"] in _BOUND_ERRORS and (rng := _allowed_range(fld)):
            msg = f"{msg}; allowed: {rng}"  # pydantic names only the violated bound of a two-sided range
        elif e["type"] == "finite_number":
            rng = _allowed_range(fld)
            msg = "nan and inf are not allowed; allowed: a finite number" + (f" {rng}" if rng else "")
        elif e["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        by_key.setdefault(".".join(parts), (e.get("input"), []))[1].append(msg)
    # the alternatives of a union (a number or 'auto') are joined with "or"; a check across sections (no key of
    # its own: the whole settings as its value) names its keys and values in its message
    lines = [f"{key}={val!r}: {' or '.join(msgs)}" if key else " or ".join(msgs) for key, (val, msgs) in by_key.items()]
    return "invalid settings: " + "; ".join(lines)


def missing_keys_message(path: str | Path, missing: list[str], defaults: dict[str, Any]) -> str:
    """For a params file that lacks schema keys: names them and the first defaults to add."""
    examples = []
    for key in missing[:3]:
        val: Any = defaults
        for part in key.split("."):
            val = val[part]
        examples.append(f"{key}: {json.dumps(val)}")
    more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
    return (f"{path}: missing key(s) {', '.join(missing)}; every setting must be listed in the params file "
            f"(`dvc exp run -S` only overrides listed keys). Add e.g. {'; '.join(examples)}{more} "
            "(the defaults; bioner/settings.py is the schema)")
