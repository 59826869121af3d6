"""params.yaml is exactly the Settings defaults, and dvc.yaml declares only params that exist."""

from __future__ import annotations

from pathlib import Path

import yaml

from bioner.settings.settings import Settings, flatten, from_dict

ROOT = Path(__file__).resolve().parents[1]


def _params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


def _leaves(d: dict) -> set[str]:
    return set(flatten(d))


def test_params_yaml_validates_and_equals_the_settings_defaults() -> None:
    params = _params()
    assert from_dict(params) == Settings()
    # same keys and values as written (not just equal after validation/coercion)
    assert params == Settings().model_dump(mode="json")


def test_every_setting_is_in_params_yaml() -> None:
    # `dvc exp run -S key=value` only overrides keys that exist in params.yaml
    assert _leaves(_params()) == _leaves(Settings().model_dump(mode="json"))


def test_dvc_yaml_params_exist_and_seed_only_reaches_train() -> None:
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    params, keys = _params(), _leaves(_params())
    # validate reads the whole file (every param is checked before any other stage can delete outputs)
    assert dvc["stages"]["validate"]["params"] == [{"params.yaml": None}]
    assert list(dvc["stages"])[0] == "validate" and "metrics/params_valid.txt" in dvc["stages"]["fetch"]["deps"]
    stages = {k: v for k, v in dvc["stages"].items() if k != "validate"}
    for name, stage in stages.items():
        for p in stage.get("params", []):
            assert isinstance(p, str), f"{name}: params from other files are not expected: {p}"
            node = params
            for part in p.split("."):
                assert isinstance(node, dict) and part in node, f"stage {name}: param {p} not in params.yaml"
                node = node[part]
    declared = {p for st in stages.values() for p in st.get("params", [])}
    # every setting is read by some stage (a key declared by none would change results without re-running)
    for key in keys:
        assert any(key == d or key.startswith(d + ".") for d in declared), f"{key} is declared by no stage"
    # the training seed must not reach data preparation
    for name in ("fetch", "silver"):
        assert "seed" not in dvc["stages"][name].get("params", [])
