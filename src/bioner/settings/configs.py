"""The seed study's named configurations: name -> (strategy, backbone alias), read by `bioner train --config`,
the run metrics' config name, the study grid and the report.

A strategy that several configurations share (the single-source comparison of backbones) names its
configurations by backbone; any other strategy names its configuration alone, whatever the backbone.
"""

from __future__ import annotations

from collections import Counter

from .settings import SettingsError

#: The six configurations of the seed study: name -> (strategy, backbone alias).
CONFIGS: dict[str, tuple[str, str]] = {
    "config_1_bert_base": ("single_source", "bert-base"),
    "config_2_biobert": ("single_source", "biobert"),
    "config_3_pubmedbert": ("single_source", "pubmedbert"),
    "config_4_sequential": ("sequential", "pubmedbert"),
    "config_5_joint_uniform": ("joint_uniform", "pubmedbert"),
    "config_6_joint_noise_aware": ("joint_noise_aware", "pubmedbert"),
}


#: The strategy of the silver-ratio study (the scaling curve).
RATIO_STUDY_STRATEGY = "joint_uniform"


def config_overrides(config: str) -> dict[str, str]:
    """The settings overrides (strategy, backbone) of one of the six named configurations."""
    if config not in CONFIGS:
        raise SettingsError(f"unknown config {config!r}; allowed: {', '.join(CONFIGS)}")
    strategy, backbone = CONFIGS[config]
    return {"strategy": strategy, "backbone": backbone}


#: The strategies whose configurations differ only in the backbone (named by backbone).
PER_BACKBONE: frozenset[str] = frozenset(s for s, n in Counter(s for s, _ in CONFIGS.values()).items() if n > 1)


def config_name(strategy: str, backbone: str) -> str:
    """Name of the seed configuration a (strategy, backbone) pair belongs to.

    A strategy of PER_BACKBONE is identified by its backbone, and on another backbone (tiny, minilm, a path)
    named `<strategy>_<backbone>`; any other strategy by the strategy alone (any backbone).
    """
    by_backbone = strategy in PER_BACKBONE
    for name, (s, b) in CONFIGS.items():
        if s == strategy and (not by_backbone or b == backbone):
            return name
    safe = backbone.replace("/", "_")
    return f"{strategy}_{safe}" if by_backbone else strategy
