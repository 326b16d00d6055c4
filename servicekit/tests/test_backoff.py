"""Backoff delays and sleeps that a stop request cuts short."""

from __future__ import annotations

import time

import pytest

from servicekit.backoff import Backoff, sleep_unless_stopped


def test_delays_double_up_to_the_cap_each_within_the_upper_half_of_its_step():
    backoff = Backoff(0.1, 1.0)
    steps = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    for step in steps:
        assert step / 2 <= backoff.next_delay() <= step


def test_reset_starts_again_from_the_first_step():
    backoff = Backoff(0.1, 10.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 0.1


@pytest.mark.parametrize(("initial", "maximum"), [(0, 1), (2, 1), (-1, 1)])
def test_nonsensical_bounds_are_refused(initial, maximum):
    with pytest.raises(ValueError, match="initial"):
        Backoff(initial, maximum)


def test_a_sleep_runs_its_course_when_nothing_stops_it():
    started = time.monotonic()
    assert sleep_unless_stopped(0.12, lambda: False) is True
    assert time.monotonic() - started >= 0.12


def test_a_stop_cuts_a_long_sleep_short():
    deadline = time.monotonic() + 0.1
    started = time.monotonic()
    assert sleep_unless_stopped(30, lambda: time.monotonic() > deadline) is False
    assert time.monotonic() - started < 5
