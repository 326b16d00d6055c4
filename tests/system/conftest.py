"""Fixtures of the system tests: ``make run`` on a data directory of the test's own."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from make_run import PASSWORD, MakeRun

from appstore.throttling import UNTHROTTLED_ENV


@pytest.fixture
def make_run(tmp_path) -> Iterator:
    """``make_run(**env)`` gives a :class:`MakeRun` on a data dir of its own."""
    started: list[MakeRun] = []

    def build(**extra: str) -> MakeRun:
        env = {**os.environ, "RUN_DATA_DIR": str(tmp_path / "data"), "DEMO_PASSWORD": PASSWORD}
        # The checks sign in again and again, as no person would.
        env.update(UNTHROTTLED_ENV)
        env.update(extra)
        run = MakeRun(env, tmp_path / f"make-run-{len(started)}.out")
        started.append(run)
        return run

    yield build
    for run in started:
        run.kill()
