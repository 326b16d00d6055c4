"""Publishing a range of the event log again, beside the relay and without touching it."""

from __future__ import annotations

from collections.abc import Callable

from appstore import outbox
from appstore.relay.messages import OutgoingMessage
from sqlstore import Database


def replay(
    db: Database,
    publisher,
    after: int,
    until: int,
    batch_size: int = 5000,
    on_batch: Callable[[int], None] = lambda count: None,
) -> int:
    """Publish the events with ``after < sequence <= until`` in order, a batch at a time.

    Returns:
        The last sequence published (``after`` if there was nothing to publish).

    Raises:
        appstore.errors.PublishError: the broker did not confirm a batch; the
            events up to the returned position of the previous batches are out.
    """
    position = after
    while position < until:
        with db.reading() as session:
            batch = outbox.read(session, position, batch_size, until=until)
        if not batch:
            break
        publisher.publish_batch(
            [OutgoingMessage(e.routing_key, e.wire(), e.event_id) for e in batch]
        )
        position = batch[-1].sequence
        on_batch(len(batch))
    return position
