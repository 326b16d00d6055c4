"""``BROKER_URL`` naming one RabbitMQ node or several: ``amqp://h:5672/;amqp://h:5673/``.

The syntax is kombu's and Dramatiq's: node URLs joined by ``;``. Every process that talks to
RabbitMQ takes the whole list and connects to whichever node answers, trying them in the
order given (after the one it last reached, where it keeps one), so losing a node costs a
reconnect, not the service.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SCHEMES = ("amqp", "amqps", "pyamqp")


def broker_urls(url: str) -> list[str]:
    """The node URLs that ``url`` names, in order.

    Raises:
        ValueError: a part is empty or not an ``amqp://``, ``amqps://`` or ``pyamqp://`` URL.
    """
    parts = [part.strip() for part in url.split(";")]
    for part in parts:
        if urlsplit(part).scheme not in SCHEMES or not urlsplit(part).hostname:
            raise ValueError(
                "each node of BROKER_URL must be an amqp://, amqps:// or pyamqp:// URL "
                f"with a host, separated by ';'; got {part!r}"
            )
    return parts


def rotated(urls: list[str], first: int) -> list[str]:
    """``urls`` starting at index ``first`` and wrapping round: the last good node first."""
    first %= len(urls)
    return urls[first:] + urls[:first]
