"""A publisher that keeps what it is given: for tests and the embedded mode."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from appstore.errors import PublishError
from appstore.relay.messages import OutgoingMessage


class MemoryPublisher:
    """Keeps published messages in :attr:`published` instead of sending them anywhere.

    Has the interface of :class:`~appstore.relay.amqp_publisher.AmqpPublisher`, for unit
    tests and the embedded mode. :meth:`fail_next` makes publishes fail, to exercise a
    caller's retry path.
    """

    def __init__(self) -> None:
        self.published: list[OutgoingMessage] = []
        self._connected = False
        self._failures = 0

    def connect(self) -> None:
        """Become connected; never fails."""
        self._connected = True

    def ensure_connected(self, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Connect unless connected.

        Parameters:
            should_stop: asked once, before connecting.

        Returns:
            True once connected, False only if ``should_stop()`` is already true.
        """
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

        Parameters:
            messages: the batch, kept in this order.
            timeout: accepted for the interface's sake; nothing here waits.

        Raises:
            PublishError: when not connected, or when a failure was requested with
                :meth:`fail_next`.
        """
        if not self._connected:
            raise PublishError("not connected; call connect() first")
        if self._failures:
            self._failures -= 1
            self._connected = False
            raise PublishError("simulated broker failure")
        self.published.extend(messages)
