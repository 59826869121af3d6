"""Row labels of the study report: every setting in which a configuration differs from the defaults is named,
either in its row's label or, when every row shares it, once above the table (`common`)."""

from __future__ import annotations

import json
from typing import Any, Protocol

#: settings the base label already names (`config_5_joint_uniform [tiny] ratio=1 w=0.3`)
_IN_BASE_LABEL = {"strategy": None, "backbone": None, "silver.ratio": "ratio=", "silver.weight": "w="}


class _Labelled(Protocol):
    label: str
    params: dict[str, Any]


def _enc(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def name_differences(groups: list[_Labelled], default_params: dict[str, Any]) -> dict[str, Any]:
    """Append to each group's label the non-default settings it does not name yet and not every group shares;
    return the non-default settings every group shares (said once, above the table)."""
    def non_default(g: _Labelled) -> dict[str, Any]:
        out = {}
        for k, v in g.params.items():
            marker = _IN_BASE_LABEL.get(k, "")
            if k in _IN_BASE_LABEL and (marker is None or marker in g.label):
                continue
            if f"{k}=" not in g.label and _enc(v) != _enc(default_params.get(k, 1 if k == "train.processes" else None)):
                out[k] = v
        return out

    per_group = [non_default(g) for g in groups]
    common = {k: v for k, v in (per_group[0] if per_group else {}).items()
              if all(k in d and _enc(d[k]) == _enc(v) for d in per_group)}
    for g, diff in zip(groups, per_group, strict=True):
        extra = ", ".join(f"{k}={v}" for k, v in sorted(diff.items()) if k not in common)
        if extra:
            g.label = f"{g.label[:-1]}, {extra})" if g.label.endswith(")") else f"{g.label} ({extra})"
    return common
