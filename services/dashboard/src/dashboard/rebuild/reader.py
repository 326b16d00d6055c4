"""Reading the Appstore's event log ahead of the fold, on a thread of its own.

The fold waits on the database and the page fetch waits on the Appstore; done one after the
other, each leaves the machine idle while the other runs. The reader fetches the next pages
while the fold writes the last ones, a bounded number ahead. It only fetches: decoding is
done by the consumer, so that the Appstore is asked for the next page at once instead of
waiting for this one to be decoded (on two cores the Appstore serving a page and this
process decoding and folding the last one is what keeps both busy).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from appstore_events import Envelope, EventError, decode
from dashboard.appstore_client import AppstoreClient

log = logging.getLogger("dashboard.rebuild")


@dataclass
class Page:
    """One page of the log, decoded. ``read`` counts every event on it, readable or not."""

    envelopes: list[Envelope]
    read: int
    last_sequence: int
    unreadable: Counter = field(default_factory=Counter)
    full: bool = True


def read_page(client: AppstoreClient, after: int, page_size: int) -> Page:
    """Fetch and decode the page after ``after``."""
    return decode_page(client.events(after=after, limit=page_size), after, page_size)


def decode_page(raw_events: list[dict], after: int, page_size: int) -> Page:
    """Decode a page fetched after ``after``.

    Events the contract cannot read are counted by error and skipped, as ``dashboard sync``
    does: the worker dead-letters them when they come through the queue.
    """
    page = Page([], len(raw_events), raw_events[-1]["sequence"] if raw_events else after)
    page.full = len(raw_events) == page_size
    for raw in raw_events:
        try:
            page.envelopes.append(decode(raw))
        except EventError as error:
            page.unreadable[type(error).__name__] += 1
            log.warning("skipping unreadable event %s: %s", raw.get("sequence"), error)
    return page


def read_ahead(
    client: AppstoreClient, after: int, page_size: int, ahead: int = 8
) -> Iterator[Page]:
    """Yield the pages after ``after`` up to the end of the log, the last one not full.

    A thread fetches up to ``ahead`` pages in advance. An error of the fetch is raised here,
    at the page it concerns; leaving the loop early stops the thread.
    """
    pages: queue.Queue[tuple[int, list[dict]] | BaseException] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def fetch() -> None:
        position = after
        try:
            while not stop.is_set():
                raw_events = client.events(after=position, limit=page_size)
                pages.put((position, raw_events))
                if len(raw_events) < page_size:
                    return
                position = raw_events[-1]["sequence"]
        except BaseException as error:  # handed to the consumer, raised there
            pages.put(error)

    thread = threading.Thread(target=fetch, name="dashboard-rebuild-reader", daemon=True)
    thread.start()
    try:
        while True:
            fetched = pages.get()
            if isinstance(fetched, BaseException):
                raise fetched
            page = decode_page(fetched[1], fetched[0], page_size)
            yield page
            if not page.full:
                return
    finally:
        stop.set()
        while thread.is_alive():  # unblock a put on a full queue, then let it finish
            with contextlib.suppress(queue.Empty):
                pages.get(timeout=0.05)
        thread.join()
