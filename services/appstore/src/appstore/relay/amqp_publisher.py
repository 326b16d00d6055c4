"""Put batches of encoded events onto RabbitMQ, persistent and confirmed by the broker.

The publisher talks to RabbitMQ through kombu with publisher confirms: a whole batch goes
out before the first confirm is awaited, because a publisher that waits for every confirm
is capped near 1.3k msg/s on the target machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from kombu import Connection, Exchange, Producer

from appstore.errors import PublishError
from appstore.relay.confirms import Confirms
from appstore.relay.messages import OutgoingMessage
from appstore.relay.sockets import corked
from appstore_events import CONTENT_TYPE, EXCHANGE
from servicekit.backoff import Backoff, sleep_unless_stopped
from servicekit.brokers import broker_urls, node_address, rotated

logger = logging.getLogger("appstore.relay")

CONTENT_ENCODING = "utf-8"
PERSISTENT = 2


class AmqpPublisher:
    """Publishes to a durable topic exchange on RabbitMQ with publisher confirms.

    Not thread-safe: one relay thread owns one publisher.

    A message no queue takes is dropped, unless :attr:`mandatory` (set by subclasses):
    then the broker returns it and the batch fails.

    Parameters:
        broker_url: ``amqp://``, ``amqps://`` or ``pyamqp://`` URL of the broker, or of
            each node of a cluster joined by ``;``: each connect tries the node last
            reached first, then the others in order.
        exchange: name of the durable topic exchange to publish to; declared on connect.
        connect_timeout: seconds to wait for the TCP connection and the AMQP handshake.
        connection_name: shown by RabbitMQ (management UI, ``rabbitmqctl list_connections
            client_properties``) so operators can tell the relay's connection from others.
        backoff_initial: first delay in seconds between attempts of :meth:`ensure_connected`.
        backoff_max: largest delay in seconds between those attempts.
    """

    mandatory = False

    def __init__(
        self,
        broker_url: str,
        exchange: str = EXCHANGE,
        *,
        connect_timeout: float = 5.0,
        connection_name: str = "appstore-relay",
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
    ) -> None:
        self.broker_url = broker_url
        self._nodes = broker_urls(broker_url)
        self._node = 0  # the index of the node last reached
        self._reached = False  # whether any node was, so a connect is a reconnect
        self.exchange_name = exchange
        self.connect_timeout = connect_timeout
        self.connection_name = connection_name
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._connection: Connection | None = None
        self._raw: Any = None  # the py-amqp connection under kombu's
        self._channel: Any = None
        self._producer: Producer | None = None
        self._errors: tuple[type[BaseException], ...] = (OSError,)
        self._confirms = Confirms()

    # -- lifecycle -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open a connection and a confirm-mode channel, and declare the exchange.

        Every node of ``broker_url`` is tried once: the first time in the order given, after
        that from the node after the one last reached.

        Raises:
            Exception: what kombu/py-amqp raised for the last node tried, when none could
                be reached or all refused us (``OSError``, ``amqp.exceptions.AMQPError``...).
                The publisher stays closed.
        """
        self.close()
        failure: Exception | None = None
        # A reconnect starts at the node after the one last reached: that one was most
        # likely just lost, and an unreachable host would cost the whole connect timeout.
        first = self._node + 1 if self._reached else self._node
        for url in rotated(self._nodes, first):
            try:
                self._connect_to(url)
            except Exception as exc:
                failure = exc
                if len(self._nodes) > 1:
                    logger.warning("cannot connect to %s: %s", node_address(url), exc)
                continue
            self._node, self._reached = self._nodes.index(url), True
            return
        assert failure is not None
        raise failure

    @property
    def node(self) -> str:
        """``host:port`` of the node connected to, or last reached."""
        return node_address(self._nodes[self._node])

    def _connect_to(self, url: str) -> None:
        # No heartbeats: an idle relay must not have to service the socket to stay
        # connected, and a dead link is caught by the confirm timeout of the next batch.
        connection = Connection(
            url,
            connect_timeout=self.connect_timeout,
            heartbeat=0,
            transport_options={"client_properties": {"connection_name": self.connection_name}},
        )
        try:
            # Exactly one attempt: kombu's connect() retries once after a 2 s sleep that
            # cannot be interrupted; the backoff belongs to ensure_connected().
            connection.ensure_connection(max_retries=0, reraise_as_library_errors=False)
            channel = connection.channel()
            exchange = Exchange(
                self.exchange_name, type="topic", durable=True, delivery_mode=PERSISTENT
            )
            self._declare(channel, exchange)
            channel.confirm_select()
            channel.events["basic_ack"].add(self._confirms.on_ack)
            channel.events["basic_nack"].add(self._confirms.on_nack)
            channel.events["basic_return"].add(self._confirms.on_return)
        except BaseException:
            connection.collect()
            raise
        self._connection = connection
        # Drain on py-amqp's connection: kombu's would silently reconnect, and acks for
        # this channel can never arrive on a new connection.
        self._raw = connection.connection
        self._channel = channel
        self._producer = Producer(channel, exchange=exchange, auto_declare=False)
        self._errors = (*connection.connection_errors, *connection.channel_errors, OSError)
        self._confirms.reset()

    def _declare(self, channel: Any, exchange: Exchange) -> None:
        """Make sure the messages have somewhere to go; called on each new channel."""
        exchange.declare(passive=False, channel=channel)

    def ensure_connected(self, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Connect unless already healthy, retrying with capped exponential backoff.

        Each failed attempt is logged as a warning on the ``appstore.relay`` logger.

        Parameters:
            should_stop: polled between attempts and while backing off; when it returns
                true the method gives up, so a shutdown is not held up by the backoff.

        Returns:
            True once connected, False if ``should_stop`` asked to give up first.
        """
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        attempt = 0
        while not self.healthy:
            if should_stop():
                return False
            attempt += 1
            try:
                self.connect()
            except Exception as exc:
                delay = backoff.next_delay()
                logger.warning(
                    "cannot connect to the broker (attempt %d): %s; retrying in %.2fs",
                    attempt,
                    exc,
                    delay,
                )
                if not sleep_unless_stopped(delay, should_stop):
                    return False
            else:
                if attempt > 1:
                    logger.info("connected to the broker after %d attempts", attempt)
        return True

    def close(self) -> None:
        """Close the connection; safe to call at any time, and more than once."""
        connection, broken = self._connection, self._raw is None or not self._raw.connected
        self._connection = self._raw = self._channel = self._producer = None
        if connection is None:
            return
        try:
            if broken:
                connection.collect()  # no close handshake over a dead socket
            else:
                connection.release()
        except Exception:
            logger.debug("error while closing the broker connection", exc_info=True)

    @property
    def healthy(self) -> bool:
        """True while the connection and the confirm channel are open as far as we know.

        This does no I/O: a connection the broker closed while we were idle is noticed by
        the next publish, which then raises :class:`~appstore.errors.PublishError`.
        """
        return (
            self._raw is not None
            and bool(self._raw.connected)
            and self._channel is not None
            and bool(self._channel.is_open)
        )

    def __enter__(self) -> AmqpPublisher:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- publishing ------------------------------------------------------------------------

    def publish_batch(self, messages: Sequence[OutgoingMessage], timeout: float = 10.0) -> None:
        """Publish ``messages`` in order and wait until the broker has confirmed all of them.

        All messages are written before the first confirm is awaited, so the whole batch is
        in flight at once.

        Parameters:
            messages: the batch, published in this order on one channel.
            timeout: seconds for the whole batch, writing and confirming.

        Raises:
            PublishError: a message was nacked, the timeout passed, the connection broke,
                or the publisher was not connected. The publisher is then closed; some
                messages may have been delivered, so publish the whole batch again after
                reconnecting.
        """
        if self._producer is None:
            raise PublishError("not connected to the broker; call connect() first")
        deadline = time.monotonic() + timeout
        try:
            self._publish_and_confirm(messages, deadline)
        except PublishError:
            self.close()
            raise
        except self._errors as exc:
            self.close()
            raise PublishError(f"broker connection failed: {exc!r}") from exc
        except BaseException:
            # The channel is in an unknown state (e.g. interrupted half way through a
            # frame); it cannot be used again.
            self.close()
            raise

    def _publish_and_confirm(self, messages: Sequence[OutgoingMessage], deadline: float) -> None:
        publish = self._producer.publish  # type: ignore[union-attr]
        with corked(self._raw.transport.sock):
            self._publish_all(publish, messages, deadline)
        self._wait_for_confirms(deadline, len(messages))

    def _publish_all(self, publish, messages: Sequence[OutgoingMessage], deadline: float) -> None:
        sent = self._confirms.sent
        for message in messages:
            # A write can block when the broker throttles publishers (memory or disk
            # alarm); the timeout keeps that from hanging the relay.
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"timed out publishing {len(messages)} messages")
            publish(
                message.body,
                routing_key=message.routing_key,
                delivery_mode=PERSISTENT,
                mandatory=self.mandatory,
                content_type=CONTENT_TYPE,
                content_encoding=CONTENT_ENCODING,
                message_id=message.message_id,
                timeout=remaining,
            )
            sent()

    def _wait_for_confirms(self, deadline: float, count: int) -> None:
        confirms = self._confirms
        while confirms.pending and not confirms.nacked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(
                    f"timed out waiting for confirms: {confirms.pending} of {count} "
                    "messages unconfirmed"
                )
            try:
                self._raw.drain_events(timeout=remaining)
            except TimeoutError:
                # socket.timeout; py-amqp keeps a half-read frame, so waiting on is safe.
                continue
        if confirms.nacked:
            raise PublishError(f"the broker rejected (nacked) {confirms.nacked} message(s)")
        if confirms.returned:
            raise PublishError(
                f"the broker returned {confirms.returned} message(s) no queue took "
                f"(routing key {confirms.returned_key!r})"
            )
