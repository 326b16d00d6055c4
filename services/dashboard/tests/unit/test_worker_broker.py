"""The worker's broker settings and its bookkeeping of acks: pure logic, no broker."""

from __future__ import annotations

import pytest

from dashboard.worker.broker import (
    BATCH_MAX_VARIABLE,
    MAX_BATCH,
    Frames,
    Settlements,
    fold_batch_max,
)

# --- DASHBOARD_FOLD_BATCH_MAX ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "size"),
    [(None, MAX_BATCH), ("", MAX_BATCH), ("  ", MAX_BATCH), ("1", 1), (" 64 ", 64), ("2000", 2000)],
)
def test_the_batch_size_comes_from_the_environment(raw, size):
    environ = {} if raw is None else {BATCH_MAX_VARIABLE: raw}
    assert fold_batch_max(environ) == size


@pytest.mark.parametrize("raw", ["0", "-5", "many", "2.5", "1e3"])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused_by_name(raw):
    with pytest.raises(ValueError, match=rf"{BATCH_MAX_VARIABLE} must be a positive integer"):
        fold_batch_max({BATCH_MAX_VARIABLE: raw})


# --- Settlements ----------------------------------------------------------------------------


def delivered(*tags: int) -> Settlements:
    settlements = Settlements()
    for tag in tags:
        settlements.delivered(tag)
    return settlements


def test_a_burst_settled_in_order_is_one_multiple_ack():
    settlements = delivered(1, 2, 3, 4, 5)
    for tag in (3, 1, 2):
        settlements.settle(tag, ack=True)
    assert settlements.take() == Frames(nacks=[], ack_through=3, acks=[])
    for tag in (4, 5):
        settlements.settle(tag, ack=True)
    assert settlements.take() == Frames(nacks=[], ack_through=5, acks=[])


def test_acks_after_a_delivery_still_in_work_go_singly_and_do_not_wait_for_it():
    settlements = delivered(1, 2, 3, 4)
    for tag in (1, 3, 4):
        settlements.settle(tag, ack=True)
    assert settlements.take() == Frames(nacks=[], ack_through=1, acks=[3, 4])
    settlements.settle(2, ack=True)  # the slow one: nothing after it is owed any more
    assert settlements.take() == Frames(nacks=[], ack_through=2, acks=[])


def test_a_nack_goes_first_and_no_multiple_ack_is_held_back_by_it():
    settlements = delivered(1, 2, 3)
    settlements.settle(2, ack=False)
    settlements.settle(1, ack=True)
    settlements.settle(3, ack=True)
    # The multiple ack through 3 is sent after the nack of 2, so it does not cover it.
    assert settlements.take() == Frames(nacks=[2], ack_through=3, acks=[])


def test_a_nack_of_a_delivery_never_recorded_is_sent_all_the_same():
    settlements = delivered(2)  # 1 was refused before it was ever handed on
    settlements.settle(1, ack=False)
    settlements.settle(2, ack=True)
    assert settlements.take() == Frames(nacks=[1], ack_through=2, acks=[])


def test_only_the_first_settlement_after_a_flush_asks_for_one():
    settlements = delivered(1, 2, 3)
    assert settlements.settle(1, ack=True) is True
    assert settlements.settle(2, ack=False) is False
    settlements.take()
    assert settlements.settle(3, ack=True) is True


def test_nothing_settled_sends_nothing():
    settlements = delivered(1)
    assert settlements.take() == Frames(nacks=[], ack_through=0, acks=[])
