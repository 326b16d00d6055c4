"""The Dashboard's Dramatiq worker: events from RabbitMQ folded in batches, exactly once
in effect.

An event flows: RabbitMQ body → :class:`~dashboard.worker.encoder.EnvelopeEncoder` (a
plain envelope becomes a message for the folding actor) → the actor decodes it, hands it
to the process's :class:`~dashboard.worker.batcher.Batcher` and returns, while the
message's ack is held (:mod:`~dashboard.worker.held_acks`) → one transaction folds the
batch → the held acks go out. Messages that can never fold are nacked to
``dashboard.events.XQ`` and kept in the ``dead_letters`` table
(:mod:`dashboard.worker.dead_letters`).

``dramatiq dashboard.worker.app`` (what ``dashboard worker`` runs) is the entry module;
:mod:`~dashboard.worker.bootstrap` builds the broker, :mod:`~dashboard.worker.actor` is the
folding actor and its per-process state, :mod:`~dashboard.worker.held_acks` holds each
message's ack until its batch has committed, :mod:`~dashboard.worker.bulk_ack` acks a folded
batch's messages together.
"""

from dashboard.worker.batcher import Batcher
from dashboard.worker.bootstrap import build_broker
from dashboard.worker.encoder import EnvelopeEncoder
from dashboard.worker.retry_policy import is_permanent, is_transient, should_retry
from dashboard.worker.topology import (
    DEAD_LETTER_QUEUE,
    DELAY_QUEUE,
    FOLD_ACTOR,
    QUEUE,
)

__all__ = [
    "DEAD_LETTER_QUEUE",
    "DELAY_QUEUE",
    "FOLD_ACTOR",
    "QUEUE",
    "Batcher",
    "EnvelopeEncoder",
    "build_broker",
    "is_permanent",
    "is_transient",
    "should_retry",
]
