"""Held acks: a message is acked only once its batch has committed, and no worker thread
waits for that.

Dramatiq's own worker and in-process broker, with an actor that hands its argument to a
batcher as the folding actor does, and a fake fold that can be held, failed or refused.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections import Counter

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.encoder import JSONEncoder
from dramatiq.middleware import CurrentMessage, Middleware, Retries
from dramatiq.worker import ConsumerThread
from sqlalchemy.exc import OperationalError

from dashboard.fold import FoldResult, UnfoldableEvent
from dashboard.worker.batcher import Batcher
from dashboard.worker.bootstrap import EmbeddedBroker
from dashboard.worker.held_acks import HeldAcks, Hold, HoldingConsumer
from dashboard.worker.retry_policy import should_retry

QUEUE = "held"


class Fold:
    """A fake fold: records what it committed; can be held at a gate, fail, or refuse."""

    def __init__(self, *, fail_first: int = 0, unfoldable=()) -> None:
        self.committed: Counter[int] = Counter()
        self.attempts: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.in_hand = threading.Event()
        self.fail_first = fail_first
        self.unfoldable = set(unfoldable)

    def __call__(self, items):
        self.attempts.append(list(items))
        self.in_hand.set()
        assert self.gate.wait(10), "the test never opened the gate"
        if self.unfoldable & set(items):
            raise UnfoldableEvent("no fold for it")
        if self.fail_first:
            self.fail_first -= 1
            raise OperationalError("INSERT", {}, Exception("database down"))
        self.committed.update(items)
        return FoldResult(folded=len(items), duplicates=0)


@pytest.fixture
def json_encoder():
    previous = dramatiq.get_encoder()
    dramatiq.set_encoder(JSONEncoder())
    yield
    dramatiq.set_encoder(previous)


@pytest.fixture
def running(json_encoder):
    """Start a worker folding with ``fold``; yield the broker, actor and worker."""
    started: list[Worker] = []

    def start(fold: Fold, *, threads: int = 1, batch_max: int = 50):
        batcher = Batcher(fold, max_size=batch_max, linger=0.05)
        held_acks = HeldAcks(prefetch=2 * batch_max, finish=batcher.stop)
        broker = EmbeddedBroker(
            middleware=[
                CurrentMessage(),
                held_acks,
                Retries(retry_when=should_retry, min_backoff=10, max_backoff=50),
            ]
        )

        @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="fold_item")
        def fold_item(item: int) -> None:
            message = CurrentMessage.get_current_message()
            failure = held_acks.failure(message)
            if failure is not None:
                raise failure
            batcher.add(item, held_acks.hold(message))

        worker = Worker(broker, worker_threads=threads, worker_timeout=50)
        worker.start()
        started.append(worker)
        return broker, fold_item, worker

    yield start
    for worker in started:
        worker.stop()


def unacked(broker) -> int:
    return broker.queues[QUEUE].unfinished_tasks


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_nothing_is_acked_before_the_commit_and_no_thread_waits_for_it(running):
    fold = Fold()
    fold.gate.clear()
    broker, fold_item, _worker = running(fold, threads=1)

    for item in range(5):
        fold_item.send(item)
    # One worker thread has handed over all five, while the fold of the first holds.
    wait_for(lambda: sum(len(batch) for batch in fold.attempts) >= 1)
    wait_for(lambda: broker.queues[QUEUE].qsize() == 0)
    time.sleep(0.1)
    assert unacked(broker) == 5
    assert not fold.committed

    fold.gate.set()
    broker.join(QUEUE, timeout=10_000)
    assert fold.committed == Counter(range(5))
    assert unacked(broker) == 0
    assert broker.dead_letters == []


def test_a_failed_batch_goes_through_dramatiqs_retries_and_commits_once(running):
    fold = Fold(fail_first=1)
    fold.gate.clear()
    broker, fold_item, _worker = running(fold)
    for item in range(4):
        fold_item.send(item)
    wait_for(lambda: broker.queues[QUEUE].qsize() == 0)
    fold.gate.set()

    broker.join(QUEUE, timeout=10_000)
    assert fold.committed == Counter(range(4))  # each once, after the retry
    assert len(fold.attempts) >= 2
    assert broker.dead_letters == []


def test_an_event_that_can_never_fold_is_dead_lettered_and_its_neighbours_commit(running):
    fold = Fold(unfoldable={2})
    broker, fold_item, _worker = running(fold)
    for item in range(4):
        fold_item.send(item)

    broker.join(QUEUE, timeout=10_000, fail_fast=False)
    assert fold.committed == Counter({0: 1, 1: 1, 3: 1})
    [dead] = broker.dead_letters
    assert list(dead.args) == [2]
    assert unacked(broker) == 0


def test_a_stopping_worker_folds_and_acks_what_it_holds(running):
    fold = Fold()
    fold.gate.clear()
    broker, fold_item, worker = running(fold, threads=2)
    for item in range(6):
        fold_item.send(item)
    wait_for(fold.in_hand.is_set)
    wait_for(lambda: broker.queues[QUEUE].qsize() == 0)

    threading.Timer(1.0, fold.gate.set).start()
    started = time.monotonic()
    worker.stop()

    assert time.monotonic() - started >= 0.9  # it waited for the batch in hand

    assert fold.committed == Counter(range(6))
    assert unacked(broker) == 0


# --- The hold of one message --------------------------------------------------------------


class Inner:
    """The broker's consumer under a HoldingConsumer: records what it acks and nacks."""

    def __init__(self) -> None:
        self.acked: list[object] = []
        self.nacked: list[object] = []

    def ack(self, message) -> None:
        self.acked.append(message)

    def nack(self, message) -> None:
        self.nacked.append(message)


class Delivered:
    """A message as a consumer delivers it: an object it can give a hold."""

    message_id = "m"
    queue_name = QUEUE


def delivered(consumer: HoldingConsumer) -> Delivered:
    message = Delivered()
    message.hold = Hold(consumer, message)
    return message


def test_an_ack_waits_for_the_release_whichever_comes_first():
    inner = Inner()
    consumer = HoldingConsumer(inner)
    early, late = delivered(consumer), delivered(consumer)
    again = []
    release_early = early.hold.engage(again.append)
    release_late = late.hold.engage(again.append)

    consumer.ack(early)  # Dramatiq is done before the batch
    assert inner.acked == []
    release_early(None)
    assert inner.acked == [early]

    release_late(None)  # the batch is done before Dramatiq
    assert inner.acked == [early]
    consumer.ack(late)
    assert inner.acked == [early, late]
    assert again == []


def test_a_failed_batch_sends_the_message_back_once_with_its_error():
    inner = Inner()
    consumer = HoldingConsumer(inner)
    message = delivered(consumer)
    again = []
    release = message.hold.engage(again.append)
    error = OperationalError("INSERT", {}, Exception("down"))

    release(error)
    consumer.ack(message)

    assert again == [message]
    assert inner.acked == []
    assert HeldAcks.failure(message) is error
    assert HeldAcks.failure(message) is None  # raised once, on the second pass
    consumer.ack(message)  # the second pass's verdict goes straight through
    assert inner.acked == [message]


def test_a_nacked_message_ignores_its_batch_and_an_unheld_one_is_acked_at_once():
    inner = Inner()
    consumer = HoldingConsumer(inner)
    nacked, plain = delivered(consumer), delivered(consumer)
    release = nacked.hold.engage(lambda message: None)

    consumer.nack(nacked)
    release(None)
    consumer.ack(plain)

    assert inner.nacked == [nacked]
    assert inner.acked == [plain]


def test_a_message_of_a_replaced_consumer_is_never_settled_through_the_new_one():
    old, new = HoldingConsumer(Inner()), HoldingConsumer(inner := Inner())
    message = delivered(old)

    new.ack(message)
    new.nack(message)

    assert inner.acked == inner.nacked == []


def test_the_worker_internals_held_acks_rely_on():
    # Pinned in pyproject.toml; an upgrade that moves any of these must fail here first.
    assert list(inspect.signature(ConsumerThread.handle_message).parameters) == [
        "self",
        "message",
    ]
    for hook in ("before_worker_boot", "before_consumer_thread_shutdown"):
        assert callable(getattr(Middleware, hook))
    worker = Worker(EmbeddedBroker(), worker_threads=1)
    assert isinstance(worker.queue_prefetch, int)
    assert worker.consumers == {}
