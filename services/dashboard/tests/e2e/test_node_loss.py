"""Losing a RabbitMQ node under a steady stream of purchases, on a three-node cluster.

Whichever node goes (the one leading ``dashboard.events``, the one the relay publishes to,
the one the worker consumes from), every purchase is still answered 201 (the Appstore never
waits on the broker), and once the node is back and the pipeline settled, the Dashboard's
figures equal the Appstore's and ``dashboard reconcile`` exits 0: nothing lost, nothing
counted twice.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from dashboard.rabbitmq import WORKER_CONNECTION_NAME
from dashboard.worker.topology import QUEUE
from servicekit.rabbitmq_cluster import ClusterError

pytestmark = pytest.mark.cluster

#: The pace of the purchases, from several threads; the outage falls in the middle.
PURCHASES_PER_SECOND = 20
BUYER_THREADS = 6
#: How long the node stays down: well past a leader election and every client's reconnect.
OUTAGE_SECONDS = 12


def _victim(pipeline, cluster, which: str) -> str:
    if which == "leader":
        return cluster.leader(QUEUE)
    if which == "relay":
        return cluster.node_of(lambda client: client.get("connection_name") == "appstore-relay")
    return cluster.node_of(lambda client: client.get("connection_name") == WORKER_CONNECTION_NAME)


def _wait_moved(pipeline, cluster, which: str, lost: str) -> None:
    """Wait until the queue has a new leader, or the client connected to another node."""
    deadline = time.monotonic() + OUTAGE_SECONDS - 2
    while True:
        try:
            now = _victim(pipeline, cluster, which)
            if now != lost and now in cluster.nodes:
                return
        except ClusterError:
            pass  # between connections
        if time.monotonic() > deadline:
            pipeline.fail(f"the {which} was still on {lost} after it was killed")
        time.sleep(0.5)


class SteadyPurchases:
    """Purchases sent at a fixed pace from a few threads, each answer counted."""

    def __init__(self, workload, store, attempts: list[tuple]) -> None:
        self.workload, self.store, self.attempts = workload, store, attempts
        self.statuses: Counter = Counter()
        self.errors: list[BaseException] = []
        self.sent = 0
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._buy, daemon=True) for _ in range(BUYER_THREADS)
        ]
        self._start = 0.0

    def start(self) -> None:
        self._start = time.monotonic()
        for thread in self._threads:
            thread.start()

    def _buy(self) -> None:
        try:
            while True:
                with self._lock:
                    if self.sent == len(self.attempts):
                        return
                    index, self.sent = self.sent, self.sent + 1
                due = self._start + index / PURCHASES_PER_SECOND
                time.sleep(max(0.0, due - time.monotonic()))
                token, app_id = self.attempts[index]
                status = self.workload.api.purchase(token, app_id).status_code
                with self._lock:
                    self.statuses[status] += 1
        except BaseException as error:  # reported by join()
            self.errors.append(error)

    def join(self) -> Counter:
        for thread in self._threads:
            thread.join(len(self.attempts) / PURCHASES_PER_SECOND + 120)
        if self.errors:
            raise self.errors[0]
        return self.statuses


@pytest.mark.parametrize("pipeline", ["cluster"], indirect=True)
@pytest.mark.parametrize("which", ["leader", "relay", "worker"])
def test_losing_a_node_loses_no_event_and_stops_no_purchase(pipeline, workload, cluster, which):
    # 40 buyers x 12 distinct apps each: 480 purchases, every one of them a 201, over 24 s.
    store = workload.set_up(which, developers=4, apps_each=5, rich=40, poor=0)
    attempts = workload.plan(store, per_rich=12, per_poor=0, repeats=0)
    node = _victim(pipeline, cluster, which)
    load = SteadyPurchases(workload, store, attempts)
    load.start()
    deadline = time.monotonic() + 60
    while pipeline.totals().get("purchases", 0) < 20:  # events flow end to end
        if time.monotonic() > deadline:
            pipeline.fail("no purchase reached the dashboard before the node loss")
        time.sleep(0.1)

    cluster.kill(node)
    lost = time.monotonic()
    _wait_moved(pipeline, cluster, which, node)  # the client (or the queue) went elsewhere
    time.sleep(max(0.0, lost + OUTAGE_SECONDS - time.monotonic()))
    cluster.start(node)
    statuses = load.join()

    assert statuses == Counter({201: len(attempts)}), statuses
    pipeline.wait_converged()
    assert pipeline.totals()["purchases"] == pipeline.truth()["purchases"] == len(attempts)
    assert pipeline.processed() == pipeline.outbox_size()
