"""Acks held back until the batch holding a message's event has committed.

Dramatiq acks a message once its actor has returned. The folding actor returns at once: it
hands its event to the process's batcher (:mod:`dashboard.worker.batcher`), so no worker
thread waits for a commit. What waits is the message's ack:

- :class:`HoldingConsumer` wraps the broker's consumer and gives each message it delivers a
  :class:`Hold`. The actor engages it (:meth:`HeldAcks.hold`) and hands the batcher its
  ``release``; Dramatiq's ack of an engaged message is held until that is called.
- The batch committed: the held ack goes out (acks of a batch go out together, see
  :mod:`dashboard.worker.bulk_ack`).
- The batch failed: nothing is acked. The message goes back on Dramatiq's work queue for a
  second pass, in which the actor raises the batch's error (:meth:`HeldAcks.failure`):
  Dramatiq's own failure path (``Retries``, ``DeadLetters``, the nack) then takes it,
  exactly as if the actor had waited for the batch and failed with it.
- The worker crashed before the commit: the message was never acked, RabbitMQ redelivers
  it, and if its batch did commit, its dedupe row makes the redelivery change nothing.

In flight, a message is unacked from delivery to commit, so the consumer's prefetch, not
the number of worker threads, bounds the batches: :class:`HeldAcks` sets it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from dramatiq import Consumer, Middleware
from dramatiq.errors import BrokerConnectionError

from dashboard.worker.batcher import Release

logger = logging.getLogger(__name__)

_PENDING = object()  # the outcome of a batch not done yet


class Hold:
    """Where one delivered message's ack stands while its event is in a batch.

    Two parties settle it, in either order, each exactly once: Dramatiq, done with the
    message (:meth:`ack`), and the batch, done with its event (:meth:`release`). The
    second to arrive acks the message, or sends it back for its second pass.
    """

    __slots__ = ("_ack_held", "_again", "_lock", "_message", "_outcome", "consumer", "failure")

    def __init__(self, consumer: HoldingConsumer, message) -> None:
        self.consumer = consumer  # the one that delivered it: only its channel can ack it
        self.failure: BaseException | None = None  # for the second pass to raise
        self._message = message
        self._lock = threading.Lock()
        self._again: Callable[[object], None] | None = None  # set while engaged
        self._ack_held = False
        self._outcome: object = _PENDING

    def engage(self, again: Callable[[object], None]) -> Release:
        """Hold the ack until the returned ``release`` is called.

        Parameters:
            again: puts the message back on the work queue, if its batch fails.
        """
        with self._lock:
            self._again, self._ack_held, self._outcome = again, False, _PENDING
        return self.release

    def ack(self) -> bool:
        """Dramatiq acks the message: return False to ack it now, True if it is held (and
        acked, or sent back, once its batch is done)."""
        with self._lock:
            if self._again is None:
                return False
            if self._outcome is _PENDING:
                self._ack_held = True
                return True
        self._settle()
        return True

    def nack(self) -> None:
        """Dramatiq rejects the message: its batch's outcome no longer matters."""
        with self._lock:
            self._again = None

    def release(self, error: BaseException | None) -> None:
        """The batch is done: committed (``error`` None) or not."""
        with self._lock:
            if self._again is None:
                return
            self._outcome = error
            if not self._ack_held:
                return
        self._settle()

    def _settle(self) -> None:
        # Only the second of ack() and release() gets here, so at most once per engage.
        again, self._again = self._again, None
        if self._outcome is None:
            self.consumer.ack_held(self._message)
        elif again is not None:
            self.failure = self._outcome  # type: ignore[assignment]
            again(self._message)


class HoldingConsumer(Consumer):
    """A broker's consumer whose ack of a message in a batch waits for the batch's commit.

    Parameters:
        consumer: the broker's own consumer, which does the acking.
    """

    def __init__(self, consumer: Consumer) -> None:
        self._consumer = consumer

    def __next__(self):
        message = next(self._consumer)
        if message is not None:
            message.hold = Hold(self, message)
        return message

    def ack(self, message) -> None:
        if self._replaced(message):
            return
        if not message.hold.ack():
            self._consumer.ack(message)

    def nack(self, message) -> None:
        if self._replaced(message):
            return
        message.hold.nack()
        self._consumer.nack(message)

    def ack_held(self, message) -> None:
        """Ack a message whose batch has committed, from whichever thread saw it last."""
        try:
            self._consumer.ack(message)
        except BrokerConnectionError as error:
            # Its connection is gone: RabbitMQ redelivers it, and the dedupe skips it.
            logger.info("could not ack message %s: %s", message.message_id, error)

    def requeue(self, messages) -> None:
        self._consumer.requeue(messages)

    def close(self) -> None:
        self._consumer.close()

    def _replaced(self, message) -> bool:
        # After a lost connection Dramatiq settles through the new consumer; a delivery
        # tag of the old channel may name another message on the new one, so none is sent.
        if message.hold.consumer is self:
            return False
        logger.warning("not settling message %s: its connection is gone", message.message_id)
        return True


class HoldingBroker:
    """Mixed into a Dramatiq broker: its consumers are :class:`HoldingConsumer`."""

    def consume(self, *args, **kwargs) -> Consumer:
        return HoldingConsumer(super().consume(*args, **kwargs))  # type: ignore[misc]


class HeldAcks(Middleware):
    """Ties held acks to Dramatiq's worker: the prefetch, the second pass, the shutdown.

    Needs a broker whose consumers are :class:`HoldingConsumer` (:class:`HoldingBroker`)
    and Dramatiq's ``CurrentMessage`` middleware, which gives the actor its message.

    Parameters:
        prefetch: the messages each consumer has unacked at most: batches, in flight and
            the next one filling, are no larger in all.
        finish: folds everything handed over so far (at shutdown, so that its acks go out
            before the consumers close).
    """

    def __init__(self, *, prefetch: int, finish: Callable[[], None]) -> None:
        self._prefetch = prefetch
        self._finish = finish
        self._worker = None

    def before_worker_boot(self, broker, worker) -> None:
        worker.queue_prefetch = self._prefetch
        self._worker = worker

    def before_consumer_thread_shutdown(self, broker, thread) -> None:
        # Every worker thread has stopped by now, and the consumer is still open.
        self._finish()

    def hold(self, message) -> Release:
        """Hold back ``message``'s ack; return what releases it once its batch is done."""
        return message.hold.engage(self._again)

    @staticmethod
    def failure(message) -> BaseException | None:
        """On a message's second pass, the error of the batch that failed it (once)."""
        hold = message.hold
        failure, hold.failure = hold.failure, None
        return failure

    def _again(self, message) -> None:
        if self._worker is None:
            raise RuntimeError("held acks need Dramatiq's worker")
        self._worker.consumers[message.queue_name].handle_message(message)
