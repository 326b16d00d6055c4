"""Socket options the relay's publisher sets for its batches."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def corked(sock: socket.socket) -> Iterator[None]:
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
