"""``infra/rabbitmq/cluster.sh up``: three running nodes, the worker's queues replicated on
each, and clients that name every node reaching whichever answers."""

from __future__ import annotations

import pytest

from dashboard.rabbitmq import connect
from dashboard.worker.topology import QUEUE_ARGUMENTS

pytestmark = pytest.mark.cluster


def test_up_starts_three_nodes_with_the_queues_as_quorum_queues_on_each(cluster):
    status = cluster.status()
    assert [line.split()[1] for line in status.splitlines()[:3]] == ["running"] * 3, status
    queues = {queue["name"]: queue for queue in cluster.queues()}
    for name in QUEUE_ARGUMENTS:
        assert queues[name]["type"] == "quorum", queues[name]
        assert sorted(queues[name]["members"]) == cluster.nodes, queues[name]


def test_a_client_naming_every_node_connects_past_a_node_that_does_not_answer(cluster):
    unreachable = "amqp://guest:guest@127.0.0.1:1/"
    connection = connect(f"{unreachable};{cluster.url}")
    try:
        assert connection.is_open
    finally:
        connection.close()
