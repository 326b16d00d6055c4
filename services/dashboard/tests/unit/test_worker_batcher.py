"""The batcher with a fake fold: batch boundaries, release after commit, errors."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from appstore_events import new_envelope
from dashboard.errors import FoldTimeout
from dashboard.fold import FoldResult, UnfoldableEvent
from dashboard.worker.batcher import Batcher


def event(user_id: int):
    return new_envelope(
        "UserRegistered",
        {
            "user_id": user_id,
            "username": f"u{user_id}",
            "role": "user",
            "registered_at": "2026-11-26T09:00:00Z",
        },
    ).with_sequence(user_id)


class FakeFold:
    """Records batches; ``committed`` holds the ids of every committed batch."""

    def __init__(self, fail_with=None, unfoldable=(), delay=0.0):
        self.batches: list[list[str]] = []
        self.committed: set[str] = set()
        self.fail_with = fail_with
        self.unfoldable = set(unfoldable)
        self.delay = delay

    def __call__(self, envelopes):
        ids = [e.event_id for e in envelopes]
        self.batches.append(ids)
        if self.unfoldable & set(ids):
            raise UnfoldableEvent("no fold")
        if self.fail_with is not None:
            raise self.fail_with
        time.sleep(self.delay)
        self.committed.update(ids)
        return FoldResult(folded=len(ids), duplicates=0, by_type=Counter())


def submit_all(batcher, envelopes, timeout=5.0):
    errors: dict[str, BaseException | None] = {}

    def run(envelope):
        try:
            batcher.submit(envelope, timeout=timeout)
            errors[envelope.event_id] = None
        except BaseException as error:
            errors[envelope.event_id] = error

    threads = [threading.Thread(target=run, args=(e,)) for e in envelopes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return errors


def test_concurrent_submissions_share_batches_no_larger_than_max_size():
    fold = FakeFold(delay=0.02)
    batcher = Batcher(fold, max_size=8, linger=0.05)
    envelopes = [event(i) for i in range(1, 41)]
    errors = submit_all(batcher, envelopes)
    batcher.stop()
    assert all(error is None for error in errors.values())
    assert sorted(i for batch in fold.batches for i in batch) == sorted(
        e.event_id for e in envelopes
    )
    assert max(len(batch) for batch in fold.batches) == 8
    assert len(fold.batches) < 40


def test_a_waiter_is_released_only_after_its_batch_committed():
    fold = FakeFold(delay=0.2)
    batcher = Batcher(fold, linger=0.0)
    envelope = event(1)
    batcher.submit(envelope, timeout=5)
    assert envelope.event_id in fold.committed
    batcher.stop()


def test_a_failed_fold_fails_every_waiter_of_the_batch():
    fold = FakeFold(fail_with=ConnectionError("database down"))
    batcher = Batcher(fold, max_size=10, linger=0.1)
    errors = submit_all(batcher, [event(i) for i in range(1, 6)])
    batcher.stop()
    assert all(isinstance(error, ConnectionError) for error in errors.values())
    assert fold.committed == set()


def test_an_unfoldable_event_fails_alone_and_its_neighbours_fold():
    envelopes = [event(i) for i in range(1, 6)]
    bad = envelopes[2].event_id
    fold = FakeFold(unfoldable={bad})
    batcher = Batcher(fold, max_size=10, linger=0.1)
    errors = submit_all(batcher, envelopes)
    batcher.stop()
    assert isinstance(errors[bad], UnfoldableEvent)
    assert {i for i, error in errors.items() if error is None} == {
        e.event_id for e in envelopes
    } - {bad}
    assert fold.committed == {e.event_id for e in envelopes} - {bad}


def test_a_fold_slower_than_the_timeout_raises_fold_timeout():
    batcher = Batcher(FakeFold(delay=0.5), linger=0.0)
    with pytest.raises(FoldTimeout):
        batcher.submit(event(1), timeout=0.05)
    batcher.stop()
