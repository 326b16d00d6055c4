"""The batcher with a fake fold: batch boundaries, release after commit, errors, stop."""

from __future__ import annotations

import threading
import time
from collections import Counter

from appstore_events import new_envelope
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


class Releases:
    """The ``release`` callbacks of added envelopes: what each was released with, and
    whether its batch had committed by then."""

    def __init__(self, fold: FakeFold) -> None:
        self.fold = fold
        self.outcomes: dict[str, BaseException | None] = {}
        self.committed_first: dict[str, bool] = {}
        self.lock = threading.Lock()
        self.all_done = threading.Event()
        self.expected = 0

    def of(self, envelope):
        self.expected += 1

        def release(error):
            with self.lock:
                self.outcomes[envelope.event_id] = error
                self.committed_first[envelope.event_id] = envelope.event_id in self.fold.committed
                if len(self.outcomes) == self.expected:
                    self.all_done.set()

        return release

    def wait(self, timeout: float = 10.0) -> dict[str, BaseException | None]:
        assert self.all_done.wait(timeout), "not every envelope was released"
        return self.outcomes


def add_all(batcher, fold, envelopes) -> Releases:
    """Add the envelopes from as many threads at once, as Dramatiq's worker threads do."""
    releases = Releases(fold)
    callbacks = [releases.of(envelope) for envelope in envelopes]
    threads = [
        threading.Thread(target=batcher.add, args=(envelope, release))
        for envelope, release in zip(envelopes, callbacks, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return releases


def test_concurrent_additions_share_batches_no_larger_than_max_size():
    fold = FakeFold(delay=0.02)
    batcher = Batcher(fold, max_size=8, linger=0.05)
    envelopes = [event(i) for i in range(1, 41)]
    outcomes = add_all(batcher, fold, envelopes).wait()
    batcher.stop()
    assert all(error is None for error in outcomes.values())
    assert sorted(i for batch in fold.batches for i in batch) == sorted(
        e.event_id for e in envelopes
    )
    assert max(len(batch) for batch in fold.batches) == 8
    assert len(fold.batches) < 40


def test_add_returns_at_once_and_release_comes_only_after_the_commit():
    fold = FakeFold(delay=0.3)
    batcher = Batcher(fold, linger=0.0)
    envelope = event(1)
    releases = Releases(fold)
    started = time.monotonic()
    batcher.add(envelope, releases.of(envelope))
    assert time.monotonic() - started < 0.1
    assert releases.outcomes == {}
    assert releases.wait() == {envelope.event_id: None}
    assert releases.committed_first == {envelope.event_id: True}
    batcher.stop()


def test_a_failed_fold_releases_every_envelope_of_the_batch_with_its_error():
    fold = FakeFold(fail_with=ConnectionError("database down"))
    batcher = Batcher(fold, max_size=10, linger=0.1)
    outcomes = add_all(batcher, fold, [event(i) for i in range(1, 6)]).wait()
    batcher.stop()
    assert len(outcomes) == 5
    assert all(isinstance(error, ConnectionError) for error in outcomes.values())
    assert fold.committed == set()


def test_an_unfoldable_event_fails_alone_and_its_neighbours_fold():
    envelopes = [event(i) for i in range(1, 6)]
    bad = envelopes[2].event_id
    fold = FakeFold(unfoldable={bad})
    batcher = Batcher(fold, max_size=10, linger=0.1)
    outcomes = add_all(batcher, fold, envelopes).wait()
    batcher.stop()
    assert isinstance(outcomes[bad], UnfoldableEvent)
    assert {i for i, error in outcomes.items() if error is None} == {
        e.event_id for e in envelopes
    } - {bad}
    assert fold.committed == {e.event_id for e in envelopes} - {bad}


def test_stop_folds_everything_added_before_it():
    fold = FakeFold(delay=0.05)
    batcher = Batcher(fold, max_size=3, linger=0.0)
    envelopes = [event(i) for i in range(1, 11)]
    releases = Releases(fold)
    for envelope in envelopes:
        batcher.add(envelope, releases.of(envelope))
    batcher.stop()
    assert releases.outcomes == {e.event_id: None for e in envelopes}
    assert fold.committed == {e.event_id for e in envelopes}


def test_a_failing_release_does_not_keep_the_others_from_theirs():
    fold = FakeFold()
    batcher = Batcher(fold, max_size=10, linger=0.1)
    first, second = event(1), event(2)
    releases = Releases(fold)

    def broken(error):
        raise RuntimeError("release failed")

    batcher.add(first, broken)
    batcher.add(second, releases.of(second))
    assert releases.wait() == {second.event_id: None}
    batcher.stop()
