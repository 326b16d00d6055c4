"""Names of the worker's queues and actor on RabbitMQ (see infra/rabbitmq/definitions.json)."""

from __future__ import annotations

from appstore_events import EXCHANGE

#: The queue bound to :data:`EXCHANGE` with ``#``; Dramatiq adds the two below.
QUEUE = "dashboard.events"
#: Dramatiq's delay queue: retries wait here for their backoff.
DELAY_QUEUE = f"{QUEUE}.DQ"
#: Dramatiq's dead-letter queue: RabbitMQ drops what it holds after 7 days.
DEAD_LETTER_QUEUE = f"{QUEUE}.XQ"
#: The actor every plain envelope is handed to.
FOLD_ACTOR = "fold_event"

__all__ = ["DEAD_LETTER_QUEUE", "DELAY_QUEUE", "EXCHANGE", "FOLD_ACTOR", "QUEUE"]
