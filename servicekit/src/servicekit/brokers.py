"""``BROKER_URL`` naming one RabbitMQ node or several: ``amqp://h:5672/;amqp://h:5673/``.

The syntax is kombu's and Dramatiq's: node URLs joined by ``;``. Every process that talks to
RabbitMQ takes the whole list and connects to whichever node answers, trying them in the
order given (the relay, after losing a node, from the node after it), so losing a node costs
a reconnect, not the service.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: What kombu (the Appstore's relay) accepts; pika (the Dashboard) takes the first two only.
SCHEMES = ("amqp", "amqps", "pyamqp")
_DEFAULT_PORTS = {"amqps": 5671}


def broker_urls(url: str, schemes: tuple[str, ...] = SCHEMES) -> list[str]:
    """The node URLs that ``url`` names, in order, without the spaces around each.

    Parameters:
        url: one node's URL, or several joined by ``;``.
        schemes: the URL schemes the caller's client library accepts.

    Raises:
        ValueError: a part is empty or not a URL of one of ``schemes`` with a host.
    """
    parts = [part.strip() for part in url.split(";")]
    for part in parts:
        if urlsplit(part).scheme not in schemes or not urlsplit(part).hostname:
            allowed = ", ".join(f"{scheme}://" for scheme in schemes)
            raise ValueError(
                f"each node of BROKER_URL must be a URL ({allowed}) with a host, "
                f"separated by ';'; got {part!r}"
            )
    return parts


def node_address(url: str) -> str:
    """``host:port`` of one node's URL, for logs."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or _DEFAULT_PORTS.get(parts.scheme, 5672)}"


def rotated(urls: list[str], first: int) -> list[str]:
    """``urls`` starting at index ``first`` and wrapping round."""
    first %= len(urls)
    return urls[first:] + urls[:first]
