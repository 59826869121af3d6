"""The strategy table (bioner.settings.strategies): each record's meaning, and that no module branches on a name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bioner.settings import settings as S
from bioner.settings.strategies import STRATEGIES, get

SRC = Path(__file__).resolve().parents[1] / "src" / "bioner"


def test_table() -> None:
    assert list(STRATEGIES) == ["single_source", "sequential", "joint_uniform", "joint_noise_aware", "joint_partial"]
    rows = {n: (s.view, s.uses_silver, s.combine, s.phases, s.silver_weighted, s.partial_labels)
            for n, s in STRATEGIES.items()}
    assert rows == {
        "single_source": ("gold", False, "gold_only", 1, False, False),
        "sequential": ("gold+silver", True, "phases", 2, False, False),
        "joint_uniform": ("gold+silver", True, "mixed", 1, False, False),
        "joint_noise_aware": ("gold+silver", True, "mixed", 1, True, False),
        "joint_partial": ("gold+silver", True, "mixed", 1, False, True),
    }
    assert [STRATEGIES[n].silver_example_weight(0.25) for n in STRATEGIES] == [None, 1.0, 1.0, 0.25, 1.0]
    with pytest.raises(KeyError, match="unknown strategy 'joint'; allowed: single_source, sequential"):
        get("joint")


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_settings_read_the_table(name: str) -> None:
    s = S.from_dict({"strategy": name, "silver": {"weight": 0.3}})
    record = STRATEGIES[name]
    assert s.strategy_record is record and s.scheme == s.entity_types.scheme(record.view)
    assert s.uses_silver == record.uses_silver
    assert s.resolved()["resolved"]["silver_example_weight"] == record.silver_example_weight(0.3)


def test_no_module_branches_on_a_strategy_name() -> None:
    """Only the table (and the catalogue of seed configurations) name strategies; code elsewhere reads records."""
    names = "|".join(STRATEGIES)
    branch = re.compile(rf"""(==|!=|\bin\b)\s*\(?[^#\n]*["']({names})["']|["']({names})["']\s*(==|!=)"""
                        rf"""|(startswith|endswith)\(\s*f?["']({names})""")
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name in ("strategies.py", "configs.py"):
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if branch.search(line.split("#")[0]):
                offenders.append(f"{path.relative_to(SRC)}:{lineno}: {line.strip()}")
    assert not offenders, offenders
