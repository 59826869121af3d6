"""The time left in training's log lines is extrapolated from the steps after the first log line: the slow
first step does not make a 30 s training read "~5 min left"."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from bioner.training import callbacks


def test_no_eta_from_the_slow_first_step(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    clock = iter([100.0, 105.0, 106.0, 107.0])  # train begins; step 1 after 5 s; then 30 steps a second
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: next(clock))
    cb = callbacks.LogLinesCallback()
    state = SimpleNamespace(global_step=0, max_steps=939, epoch=0.0, is_world_process_zero=True)
    cb.on_train_begin(None, state, None)
    caplog.set_level(logging.INFO, logger="bioner.training")
    for step in (1, 31, 61):
        state.global_step = step
        cb.on_log(None, state, None, logs={"loss": 1.0, "learning_rate": 1e-3})
    first, second, third = caplog.messages
    assert "left" not in first  # one step of warm-up says nothing about the rest
    assert second.endswith("6 s elapsed, ~30 s left") and third.endswith("7 s elapsed, ~29 s left"), caplog.messages


def test_a_resumed_run_estimates_from_its_own_steps(monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    clock = iter([0.0, 4.0, 5.0])
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: next(clock))
    cb = callbacks.LogLinesCallback()
    state = SimpleNamespace(global_step=500, max_steps=600, epoch=1.0, is_world_process_zero=True)
    cb.on_train_begin(None, state, None)
    caplog.set_level(logging.INFO, logger="bioner.training")
    for step in (510, 560):
        state.global_step = step
        cb.on_log(None, state, None, logs={"loss": 1.0})
    assert caplog.messages[-1].endswith("~1 s left")  # 50 steps a second from step 510 on; 40 to go
