"""Connections to RabbitMQ for the Dashboard's own commands (topology, dead-letter replay).

``BROKER_URL`` may name several nodes of a cluster (``amqp://...;amqp://...``): pika tries
them in order and connects to the first that answers, as Dramatiq's broker does for the
worker itself.
"""

from __future__ import annotations

import pika

from servicekit.brokers import broker_urls

#: The URL schemes pika takes.
SCHEMES = ("amqp", "amqps")

#: How the worker's connections are named where RabbitMQ lists them.
WORKER_CONNECTION_NAME = "dashboard-worker"


def connect(broker_url: str, name: str = "dashboard") -> pika.BlockingConnection:
    """A blocking connection to the first node of ``broker_url`` that answers.

    Parameters:
        broker_url: one node's URL, or several joined by ``;``.
        name: the connection's name, as ``rabbitmqctl list_connections`` shows it.

    Raises:
        ValueError: ``broker_url`` is not a list of RabbitMQ URLs.
        pika.exceptions.AMQPError: no node could be reached.
    """
    parameters = [pika.URLParameters(url) for url in node_urls(broker_url)]
    name_connections(parameters, name)
    return pika.BlockingConnection(parameters)


def node_urls(broker_url: str) -> list[str]:
    """The node URLs of ``broker_url``, checked for pika.

    Raises:
        ValueError: a part is not an ``amqp://`` or ``amqps://`` URL with a host.
    """
    return broker_urls(broker_url, SCHEMES)


def name_connections(parameters, name: str) -> None:
    """Name the connections that pika ``parameters`` (one or a list) will open."""
    for each in parameters if isinstance(parameters, list) else [parameters]:
        each.client_properties = {**(each.client_properties or {}), "connection_name": name}
