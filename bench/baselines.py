"""Slow ways kept only for the benchmarks to measure the fast ones against.

Nothing in the services uses them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from appstore.relay.messages import OutgoingMessage


def publish_one_by_one(
    publish_batch: Callable[..., None], messages: Sequence[OutgoingMessage], timeout: float = 10.0
) -> None:
    """Publish ``messages`` waiting for each confirm before sending the next.

    One round trip per message: the slow baseline that the relay's batched confirms are
    compared against.

    Parameters:
        publish_batch: a publisher's ``publish_batch``, connected; each message is a batch
            of its own.
        messages: published in this order.
        timeout: seconds for all of them, writing and confirming.

    Raises:
        appstore.errors.PublishError: as ``publish_batch`` does, which leaves the publisher
            closed; the messages before the one that failed are confirmed.
    """
    deadline = time.monotonic() + timeout
    for message in messages:
        publish_batch((message,), timeout=deadline - time.monotonic())
