"""Prometheus metrics of the relay, served on their own port (the relay has no HTTP API)."""

from prometheus_client import Counter, Gauge, Histogram

PUBLISHED = Counter(
    "appstore_relay_events_published_total", "Events confirmed by the broker.", ["routing_key"]
)
BACKLOG = Gauge("appstore_outbox_backlog", "Events committed to the outbox and not yet confirmed.")
OLDEST_AGE = Gauge(
    "appstore_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest committed event not yet confirmed (0 when none).",
)
LEADER = Gauge("appstore_relay_leader", "1 while this relay holds the leader lock.")
BATCH_SECONDS = Histogram(
    "appstore_relay_batch_seconds",
    "Time to publish one batch and get every confirm.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PUBLISH_FAILURES = Counter(
    "appstore_relay_publish_failures_total", "Batches the broker did not confirm (retried)."
)
