"""Connections to RabbitMQ for the Dashboard's own commands (topology, dead-letter replay).

``BROKER_URL`` may name several nodes of a cluster (``amqp://...;amqp://...``): pika tries
them in order and connects to the first that answers, as Dramatiq's broker does for the
worker itself.
"""

from __future__ import annotations

import pika

from servicekit.brokers import broker_urls


def connect(broker_url: str) -> pika.BlockingConnection:
    """A blocking connection to the first node of ``broker_url`` that answers.

    Raises:
        ValueError: ``broker_url`` is not a list of RabbitMQ URLs.
        pika.exceptions.AMQPError: no node could be reached.
    """
    return pika.BlockingConnection([pika.URLParameters(url) for url in broker_urls(broker_url)])
