"""Put batches of encoded events onto the broker, persistent and confirmed by it.

:class:`AmqpPublisher` talks to RabbitMQ through kombu with publisher confirms: a whole batch
goes out before the first confirm is awaited, because a publisher that waits for every
confirm is capped near 1.3k msg/s on the target machine. :class:`MemoryPublisher` has the
same interface and keeps what it was given, for tests and the embedded mode.

Both give at-least-once delivery: when :meth:`~AmqpPublisher.publish_batch` raises
:class:`PublishError`, some of the batch may have reached the broker, and the caller
publishes the whole batch again after reconnecting.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Exchange, Producer

from appstore_events import CONTENT_TYPE, EXCHANGE

__all__ = [
    "AmqpPublisher",
    "MemoryPublisher",
    "OutgoingMessage",
    "PublishError",
    "Publisher",
    "make_publisher",
]

logger = logging.getLogger("appstore.relay")

CONTENT_ENCODING = "utf-8"
PERSISTENT = 2

# While backing off, how often to ask whether the process is shutting down.
_STOP_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class OutgoingMessage:
    """One encoded event, ready for the wire.

    ``message_id`` is the event's ``event_id``; it is sent as the AMQP ``message_id`` property
    so consumers can drop the duplicates that at-least-once delivery produces.
    """

    routing_key: str
    body: bytes
    message_id: str


class PublishError(Exception):
    """The broker did not confirm every message of a publish.

    The publisher is closed when this is raised; reconnect before publishing again.
    """


def _never_stop() -> bool:
    return False


def _backoff_delays(initial: float, maximum: float) -> Iterator[float]:
    """Yield capped, doubling delays with jitter, so many relays do not retry in step."""
    delay = initial
    while True:
        yield random.uniform(delay / 2, delay)
        delay = min(delay * 2, maximum)


def _sleep_unless_stopped(seconds: float, should_stop: Callable[[], bool]) -> bool:
    """Sleep ``seconds`` in short slices; return False as soon as ``should_stop()`` is true."""
    deadline = time.monotonic() + seconds
    while True:
        if should_stop():
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        time.sleep(min(remaining, _STOP_POLL_SECONDS))


@contextmanager
def _corked(sock: socket.socket) -> Iterator[None]:
    """Hold small writes back until the block ends (Linux; elsewhere a no-op).

    Corked, the kernel packs a batch's small frames into full segments instead of sending,
    and waking the broker for, one packet per message; uncorking flushes the rest.
    """
    cork = getattr(socket, "TCP_CORK", None)
    if cork is None:
        yield
        return
    sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
    try:
        yield
    finally:
        sock.setsockopt(socket.IPPROTO_TCP, cork, 0)


class AmqpPublisher:
    """Publishes to a durable topic exchange on RabbitMQ with publisher confirms.

    Not thread-safe: one relay thread owns one publisher.

    Parameters
    ----------
    broker_url:
        ``amqp://``, ``amqps://`` or ``pyamqp://`` URL of the broker.
    exchange:
        Name of the durable topic exchange to publish to; declared on connect.
    connect_timeout:
        Seconds to wait for the TCP connection and the AMQP handshake.
    connection_name:
        Shown by RabbitMQ (management UI, ``rabbitmqctl list_connections client_properties``)
        so operators can tell the relay's connection from others.
    backoff_initial, backoff_max:
        First and largest delay in seconds between attempts of :meth:`ensure_connected`.
    """

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
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._confirmed_below = 1  # every tag below this one is settled
        self._nacked = 0

    # -- lifecycle -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open a connection and a confirm-mode channel, and declare the exchange.

        Raises
        ------
        Exception
            Whatever kombu/py-amqp raise when the broker cannot be reached or refuses us
            (``OSError``, ``amqp.exceptions.AMQPError``...). The publisher stays closed.
        """
        self.close()
        # No heartbeats: an idle relay must not have to service the socket to stay
        # connected, and a dead link is caught by the confirm timeout of the next batch.
        connection = Connection(
            self.broker_url,
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
            exchange.declare(passive=False, channel=channel)
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
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
        # Delivery tags restart at 1 on every channel put into confirm mode.
        self._next_tag = 1
        self._confirmed_below = 1
        self._unconfirmed.clear()
        self._nacked = 0

    def ensure_connected(self, should_stop: Callable[[], bool] = _never_stop) -> bool:
        """Connect unless already healthy, retrying with capped exponential backoff.

        Each failed attempt is logged as a warning on the ``appstore.relay`` logger.

        Parameters
        ----------
        should_stop:
            Polled between attempts and while backing off; when it returns true the
            method gives up, so a shutdown is not held up by the backoff.

        Returns
        -------
        bool
            True once connected, False if ``should_stop`` asked to give up first.
        """
        delays = _backoff_delays(self.backoff_initial, self.backoff_max)
        attempt = 0
        while not self.healthy:
            if should_stop():
                return False
            attempt += 1
            try:
                self.connect()
            except Exception as exc:
                delay = next(delays)
                logger.warning(
                    "cannot connect to the broker (attempt %d): %s; retrying in %.2fs",
                    attempt,
                    exc,
                    delay,
                )
                if not _sleep_unless_stopped(delay, should_stop):
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
        the next publish, which then raises :class:`PublishError`.
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

        Parameters
        ----------
        messages:
            The batch, published in this order on one channel.
        timeout:
            Seconds for the whole batch, writing and confirming.

        Raises
        ------
        PublishError
            A message was nacked, the timeout passed, the connection broke, or the
            publisher was not connected. The publisher is then closed; some messages may
            have been delivered, so publish the whole batch again after reconnecting.
        """
        deadline = time.monotonic() + timeout
        self._guarded(self._publish_and_confirm, messages, deadline)

    def publish_one_by_one(
        self, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> None:
        """Publish ``messages`` waiting for each confirm before sending the next.

        One round trip per message: the slow baseline benchmarks compare against.
        Parameters, errors and the state after an error are as for :meth:`publish_batch`.
        """
        deadline = time.monotonic() + timeout
        for message in messages:
            self._guarded(self._publish_and_confirm, (message,), deadline)

    def _guarded(self, operation: Callable[..., None], *args: Any) -> None:
        """Run ``operation``; on any failure close, and report broker trouble as PublishError."""
        if self._producer is None:
            raise PublishError("not connected to the broker; call connect() first")
        try:
            operation(*args)
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
        with _corked(self._raw.transport.sock):
            self._publish_all(publish, messages, deadline)
        self._wait_for_confirms(deadline, len(messages))

    def _publish_all(self, publish, messages: Sequence[OutgoingMessage], deadline: float) -> None:
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
                mandatory=False,
                content_type=CONTENT_TYPE,
                content_encoding=CONTENT_ENCODING,
                message_id=message.message_id,
                timeout=remaining,
            )
            self._unconfirmed.add(self._next_tag)
            self._next_tag += 1

    def _wait_for_confirms(self, deadline: float, count: int) -> None:
        while self._unconfirmed and not self._nacked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(
                    f"timed out waiting for confirms: {len(self._unconfirmed)} of {count} "
                    "messages unconfirmed"
                )
            try:
                self._raw.drain_events(timeout=remaining)
            except TimeoutError:
                # socket.timeout; py-amqp keeps a half-read frame, so waiting on is safe.
                continue
        if self._nacked:
            raise PublishError(f"the broker rejected (nacked) {self._nacked} message(s)")

    def _settle(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            for tag in range(self._confirmed_below, delivery_tag + 1):
                self._unconfirmed.discard(tag)
            self._confirmed_below = max(self._confirmed_below, delivery_tag + 1)
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        before = len(self._unconfirmed)
        self._settle(delivery_tag, multiple)
        self._nacked += max(before - len(self._unconfirmed), 1)


class MemoryPublisher:
    """Keeps published messages in :attr:`published` instead of sending them anywhere.

    Has the interface of :class:`AmqpPublisher`, for unit tests and the embedded mode.
    :meth:`fail_next` makes publishes fail, to exercise a caller's retry path.
    """

    def __init__(self) -> None:
        self.published: list[OutgoingMessage] = []
        self._connected = False
        self._failures = 0

    def connect(self) -> None:
        """Become connected; never fails."""
        self._connected = True

    def ensure_connected(self, should_stop: Callable[[], bool] = _never_stop) -> bool:
        """Connect unless connected. Returns False only if ``should_stop()`` is already true."""
        if not self._connected:
            if should_stop():
                return False
            self.connect()
        return True

    def close(self) -> None:
        """Become disconnected; :attr:`published` is kept."""
        self._connected = False

    @property
    def healthy(self) -> bool:
        """True between :meth:`connect` and :meth:`close` (or a failed publish)."""
        return self._connected

    def fail_next(self, times: int = 1) -> None:
        """Make the next ``times`` publish calls raise :class:`PublishError` and disconnect."""
        self._failures += times

    def __enter__(self) -> MemoryPublisher:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def publish_batch(self, messages: Sequence[OutgoingMessage], timeout: float = 10.0) -> None:
        """Append ``messages`` to :attr:`published`, all or nothing.

        Raises
        ------
        PublishError
            When not connected, or when a failure was requested with :meth:`fail_next`.
        """
        if not self._connected:
            raise PublishError("not connected; call connect() first")
        if self._failures:
            self._failures -= 1
            self._connected = False
            raise PublishError("simulated broker failure")
        self.published.extend(messages)

    def publish_one_by_one(
        self, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> None:
        """Same as :meth:`publish_batch`; there is no round trip to save."""
        self.publish_batch(messages, timeout)


#: Either publisher; the relay depends on nothing else.
Publisher = AmqpPublisher | MemoryPublisher

_AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})


def make_publisher(broker_url: str, exchange: str = EXCHANGE) -> Publisher:
    """Return the publisher for ``broker_url``, not yet connected.

    Parameters
    ----------
    broker_url:
        ``memory://`` for a :class:`MemoryPublisher`; ``amqp://``, ``amqps://`` or
        ``pyamqp://`` for an :class:`AmqpPublisher`.
    exchange:
        Exchange name for the AMQP publisher.

    Raises
    ------
    ValueError
        For any other scheme.
    """
    scheme = broker_url.partition("://")[0].lower()
    if scheme == "memory":
        return MemoryPublisher()
    if scheme in _AMQP_SCHEMES:
        return AmqpPublisher(broker_url, exchange)
    raise ValueError(f"unsupported broker URL scheme {scheme!r} in {broker_url!r}")
