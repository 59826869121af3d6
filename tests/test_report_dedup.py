"""`bioner report` counts a re-run once: runtime measurements (wall time, threads, throughput, memory) never
make two runs of one configuration and seed different results."""

from __future__ import annotations

import pytest

from bioner.study.report import build_report, markdown, parse_experiments, scaling_points


def _rev(name: str, seed: int, metrics: dict) -> dict:
    params = {"strategy": "joint_uniform", "backbone": "tiny", "seed": seed, "silver": {"ratio": "1"}}
    data = {"params": {"params.yaml": {"data": params}}, "metrics": {"metrics/metrics.json": {"data": metrics}}}
    return {"revs": [{"rev": name * 5, "name": name, "data": data, "error": None}], "executor": None,
            "name": name}


def _scores(f1: float) -> dict:
    return {"bc5cdr_f1": f1, "bc5cdr_f1_Chemical": f1, "bc5cdr_support_Chemical": 200,
            "pubmed_f1": f1 / 2, "val_f1": f1, "silver_sentences": 1000}


def _rows(*exps: dict) -> list[dict]:
    return [{"rev": "workspace", "experiments": None}, {"rev": "abc", "name": "main", "experiments": list(exps)}]


@pytest.mark.parametrize("runtime", [{"train_wall_s": 15.2}, {"train_threads": 2},
                                     {"predict_sentences_per_s": 900.0}, {"peak_rss_mib": 800}])
def test_a_rerun_differing_only_in_runtime_counts_once(runtime: dict) -> None:
    first = {**_scores(0.8), "train_wall_s": 14.6, "train_threads": 1, "predict_sentences_per_s": 1000.0,
             "peak_rss_mib": 700}
    rerun = {**first, **runtime}
    rep = build_report(parse_experiments(_rows(_rev("a", 42, first), _rev("b", 42, rerun))))
    (g,) = rep["groups"]
    assert g["seeds"] == [42] and g["metrics"]["bc5cdr_f1"]["n"] == 1
    assert rep["repeated_seeds"] == []
    assert [(d["experiment"], d["duplicate_of"]) for d in rep["duplicates"]] == [("b", "a")]
    assert [p["n_seeds"] for p in scaling_points(rep)] == [1]
    assert "seed 42 run" not in markdown(rep) and "Seeds run more than once" not in markdown(rep)


def test_a_rerun_with_other_scores_still_counts_as_a_repeated_seed() -> None:
    rep = build_report(parse_experiments(_rows(_rev("a", 42, {**_scores(0.8), "train_wall_s": 14.6}),
                                               _rev("b", 42, {**_scores(0.7), "train_wall_s": 14.6}))))
    assert rep["duplicates"] == [] and rep["repeated_seeds"][0]["experiments"] == ["a", "b"]


def test_runtime_metrics_never_include_scores() -> None:
    from bioner.study.groups import is_runtime_metric

    assert all(map(is_runtime_metric, ["train_wall_s", "train_threads", "eval_runtime_s", "peak_rss_mib"]))
    assert not any(map(is_runtime_metric, ["bc5cdr_f1", "pubmed_f1_S", "bc5cdr_support_Chemical", "val_f1",
                                           "silver_sentences"]))


def _cfg_rev(name: str, seed: int, f1: float, **params: object) -> dict:
    rev = _rev(name, seed, _scores(f1))
    rev["revs"][0]["data"]["params"]["params.yaml"]["data"].update(params)
    return rev


def test_a_single_seed_row_shows_n1_not_a_zero_std() -> None:
    rep = build_report(parse_experiments(_rows(_rev("a", 42, _scores(0.8)))))
    assert rep["groups"][0]["metrics"]["bc5cdr_f1"]["std"] is None
    md = markdown(rep, min_support=1)
    assert "0.800 (n=1)" in md and "± 0.000" not in md


def test_a_label_names_every_setting_that_differs_from_the_defaults() -> None:
    real = {"source": "/data/real"}
    rep = build_report(parse_experiments(_rows(_cfg_rev("short", 42, 0.3, data=real, train={"epochs": 0.3}),
                                               _cfg_rev("r2", 42, 0.8, data=real, silver={"ratio": "2"}))))
    labels = sorted(g["label"] for g in rep["groups"])
    assert labels == ["config_5_joint_uniform [tiny] ratio=1 (train.epochs=0.3)",
                      "config_5_joint_uniform [tiny] ratio=2"]
    assert rep["common_settings"] == {"data.source": "/data/real"}
    assert "Every row: `data.source=/data/real`" in markdown(rep)
