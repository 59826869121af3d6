"""The strategy table (docs/design.md s.4): one record per training strategy, read by settings, training,
run_metrics, study_report and the demo. Adding a strategy is one entry here (plus its loss, if new).

A strategy says which label view it trains and validates on (gold types only, or gold and silver types; the
types themselves are the run's settings, `sources.*`), whether it uses the silver corpus, how gold and silver
are combined, how silver examples are weighted and whether O tokens get the partial-label loss. Nothing
else in the package branches on a strategy's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .labels import View

#: How gold and silver meet: gold only | one shuffled training set | gold first, then silver as phase 2.
Combine = Literal["gold_only", "mixed", "phases"]


@dataclass(frozen=True)
class Strategy:
    """One training strategy: everything the code needs to know about it."""

    name: str
    view: View  # the label view trained, validated and saved with the model: gold types, or gold + silver types
    combine: Combine
    silver_weighted: bool = False  # silver examples weigh `silver.weight` in the loss (gold 1.0)
    partial_labels: bool = False  # an O token is only penalised against the types its source annotates
    summary: str = ""

    @property
    def uses_silver(self) -> bool:
        return self.combine != "gold_only"

    @property
    def phases(self) -> int:
        return 2 if self.combine == "phases" else 1

    def silver_example_weight(self, weight_setting: float) -> float | None:
        """Loss weight of one silver example (None: the strategy trains on no silver)."""
        if not self.uses_silver:
            return None
        return weight_setting if self.silver_weighted else 1.0


_TABLE = (
    Strategy("single_source", "gold", "gold_only", summary="BC5CDR train only, gold view (gold types)"),
    Strategy("sequential", "gold+silver", "phases",
             summary="phase 1 BC5CDR, phase 2 silver from phase 1's best model (gold+silver view)"),
    Strategy("joint_uniform", "gold+silver", "mixed", summary="gold + silver shuffled together, silver weight 1"),
    Strategy("joint_noise_aware", "gold+silver", "mixed", silver_weighted=True,
             summary="gold + silver shuffled together, silver examples weigh silver.weight"),
    Strategy("joint_partial", "gold+silver", "mixed", partial_labels=True,
             summary="gold + silver shuffled together, O tokens only penalised against their source's types"),
)

#: name -> Strategy, in the study's order.
STRATEGIES: dict[str, Strategy] = {s.name: s for s in _TABLE}
STRATEGY_NAMES: tuple[str, ...] = tuple(STRATEGIES)


def get(name: str) -> Strategy:
    """The strategy called `name`; a KeyError names the allowed ones."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; allowed: {', '.join(STRATEGY_NAMES)}") from None
