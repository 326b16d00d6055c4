"""Moving the worker's queues from an older install's classic queues to quorum queues.

A queue's type cannot change in place (declaring it with other arguments fails with
PRECONDITION_FAILED), so each queue that is not yet a quorum queue is emptied into a holding
queue, deleted, declared anew, and filled again from the holding queue. Every message is
published with a confirm before the copy it came from is acked, so an interruption at any
point loses nothing: it leaves at most a duplicate (which the fold's dedupe absorbs) and a
holding queue that the next run empties. While ``dashboard.events`` is being replaced, the
holding queue is bound to the exchange in its place, so events published meanwhile are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pika
from pika.exceptions import ChannelClosedByBroker

from dashboard.rabbitmq import connect
from dashboard.worker.topology import EXCHANGE, QUEUE, QUEUE_ARGUMENTS

#: Appended to a queue's name for the queue that holds its messages while it is replaced.
HOLDING_SUFFIX = ".migrating"
_PRECONDITION_FAILED = 406
_NOT_FOUND = 404


class QueuesBusy(RuntimeError):
    """A queue to migrate has consumers: the workers must be stopped first."""


@dataclass(frozen=True)
class Migrated:
    """What happened to one queue: whether it was replaced, and how many messages it holds
    from the migration (those moved over and those that arrived meanwhile)."""

    queue: str
    replaced: bool
    messages: int


def migrate(
    broker_url: str,
    queues: dict[str, dict[str, object]] | None = None,
    *,
    bound_queue: str = QUEUE,
    exchange: str = EXCHANGE,
    on_message: Callable[[], None] = lambda: None,
) -> list[Migrated]:
    """Make every queue of ``queues`` (the worker's by default) a quorum queue.

    Parameters:
        broker_url: the broker, one node or several joined by ``;``.
        queues: queue name to the arguments it must have.
        bound_queue: the one of them bound to ``exchange`` with ``#``.
        exchange: the topic exchange the events arrive on.
        on_message: called once per message taken out of an old queue (a progress bar).

    Returns:
        One :class:`Migrated` per queue, in the order given.

    Raises:
        QueuesBusy: a queue to replace has consumers; nothing was changed.
        pika.exceptions.AMQPError: the broker failed us; nothing is lost, and running again
            finishes the work.
    """
    queues = QUEUE_ARGUMENTS if queues is None else queues
    connection = connect(broker_url)
    try:
        pending = [
            name for name, arguments in queues.items() if _needs_move(connection, name, arguments)
        ]
        _refuse_if_consumed(connection, pending)
        results = []
        for name, arguments in queues.items():
            if name not in pending:
                results.append(Migrated(name, replaced=False, messages=0))
                continue
            bound = name == bound_queue
            moved = _replace(connection, name, arguments, exchange if bound else None, on_message)
            results.append(Migrated(name, replaced=True, messages=moved))
        return results
    finally:
        if connection.is_open:
            connection.close()


def _needs_move(connection, name: str, arguments: dict[str, object]) -> bool:
    """Whether ``name`` exists with other arguments, or a holding queue is left over."""
    if _exists(connection, name + HOLDING_SUFFIX):
        return True
    channel = connection.channel()
    try:
        # Creates the queue as it should be where there is none: nothing to move then.
        channel.queue_declare(name, durable=True, arguments=arguments)
    except ChannelClosedByBroker as exc:
        if exc.reply_code != _PRECONDITION_FAILED:
            raise
        return True
    channel.close()
    return False


def _exists(connection, name: str) -> bool:
    channel = connection.channel()
    try:
        channel.queue_declare(name, passive=True)
    except ChannelClosedByBroker as exc:
        if exc.reply_code != _NOT_FOUND:
            raise
        return False
    channel.close()
    return True


def _refuse_if_consumed(connection, names: list[str]) -> None:
    channel = connection.channel()
    try:
        for name in names:
            if not _exists(connection, name):
                continue
            consumers = channel.queue_declare(name, passive=True).method.consumer_count
            if consumers:
                raise QueuesBusy(
                    f"{name} has {consumers} consumer(s): stop every `dashboard worker` first"
                )
    finally:
        if channel.is_open:
            channel.close()


def _replace(connection, name, arguments, exchange, on_message) -> int:
    holding = name + HOLDING_SUFFIX
    # A channel remembers what each queue it published to was: publishing on it to a queue
    # deleted and declared anew since crashes the channel, or worse, reaches the old queue.
    # So each step below has a channel of its own.
    with _channel(connection) as channel:
        channel.queue_declare(holding, durable=True, arguments={"x-queue-type": "quorum"})
        if exchange:
            # New events land in the holding queue from here on, none in the old queue.
            channel.queue_bind(holding, exchange, routing_key="#")
    if _exists(connection, name):
        with _channel(connection) as channel:
            if exchange:
                channel.queue_unbind(name, exchange, routing_key="#")
            _empty_into(channel, name, holding, on_message)
            if consumers := channel.queue_declare(name, passive=True).method.consumer_count:
                # Its messages are safe in the holding queue; the next run finishes.
                raise QueuesBusy(
                    f"{name} gained {consumers} consumer(s): stop every `dashboard worker`, "
                    "then run again"
                )
        with _channel(connection) as channel:
            channel.queue_delete(name)
    with _channel(connection) as channel:
        channel.queue_declare(name, durable=True, arguments=arguments)
        if exchange:
            # Bound twice for a moment: an event may land in both, and the fold dedupes it.
            channel.queue_bind(name, exchange, routing_key="#")
            channel.queue_unbind(holding, exchange, routing_key="#")
    with _channel(connection) as channel:
        moved = _empty_into(channel, holding, name, lambda: None)
        # Quorum queues refuse if_empty: emptied just above, and nothing publishes to it now.
        channel.queue_delete(holding)
    return moved


def _empty_into(channel, source: str, target: str, on_message: Callable[[], None]) -> int:
    """Move messages until ``source`` is found empty: counted, not just drained once."""
    moved = 0
    while True:
        moved += _move(channel, source, target, on_message)
        if channel.queue_declare(source, passive=True).method.message_count == 0:
            return moved


@contextmanager
def _channel(connection) -> Iterator:
    channel = connection.channel()
    channel.confirm_delivery()
    try:
        yield channel
    finally:
        if channel.is_open:
            channel.close()


def _move(channel, source: str, target: str, on_message: Callable[[], None]) -> int:
    """Move every message of ``source`` to ``target``: each confirmed there, then acked here."""
    moved = 0
    while True:
        method, properties, body = channel.basic_get(source, auto_ack=False)
        if method is None:
            return moved
        channel.basic_publish(
            exchange="",
            routing_key=target,
            body=body,
            properties=_kept(properties),
            mandatory=True,
        )
        channel.basic_ack(method.delivery_tag)
        moved += 1
        on_message()


def _kept(properties: pika.BasicProperties) -> pika.BasicProperties:
    """The message's own properties, persistent, less its delivery count: that counts
    redeliveries from the old queue, and must start again in the new one."""
    headers = dict(properties.headers or {})
    headers.pop("x-delivery-count", None)
    return pika.BasicProperties(
        content_type=properties.content_type,
        content_encoding=properties.content_encoding,
        headers=headers or None,
        delivery_mode=pika.DeliveryMode.Persistent,
        priority=properties.priority,
        correlation_id=properties.correlation_id,
        message_id=properties.message_id,
        timestamp=properties.timestamp,
        type=properties.type,
        app_id=properties.app_id,
    )
