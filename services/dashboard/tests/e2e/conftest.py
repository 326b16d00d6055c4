"""The whole event pipeline with real parts, for the end-to-end acceptance tests.

Each test gets its own pipeline: ``appstore serve`` and ``appstore relay`` on a throwaway
PostgreSQL database, RabbitMQ, and ``dashboard worker`` folding ``dashboard.events`` into a
throwaway PostgreSQL database of the Dashboard's own. ``dashboard reconcile`` / ``sync`` and
``appstore events replay`` run as subprocesses, as an operator would run them.

The queue ``dashboard.events`` (and Dramatiq's ``.DQ``/``.XQ``) has a fixed name on a shared
broker, so it is declared as ``infra/rabbitmq/definitions.json`` declares it, bound to
``appstore.events`` with ``#``, and purged before and after each test. A pipeline whose
worker folded another run's events would show drift: run one such suite per broker.

The parts: :mod:`.processes` (a service in its own process group), :mod:`.pipeline` (the
pipeline and its figures), :mod:`.client` (the Appstore's REST API), :mod:`.workload` (what
the tests send and the answers it must get).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.migrations import upgrade as upgrade_dashboard
from sqlstore.testing import throwaway_database

from .pipeline import PASSWORD, Pipeline
from .workload import Workload


@pytest.fixture(params=["node", pytest.param("cluster", marks=pytest.mark.cluster)])
def pipeline(request, postgres_admin_url, tmp_path) -> Iterator[Pipeline]:
    """A running pipeline on empty databases: ``admin`` and ``service`` accounts exist.

    Once on the single RabbitMQ node, once on the three-node cluster: there the Appstore and
    the Dashboard name the nodes in other orders, so that the queue's leader (the first
    node), the relay's node and the worker's node are three different nodes.
    """
    on_cluster = request.param == "cluster"
    rabbit = request.getfixturevalue("cluster_rabbit" if on_cluster else "rabbit")
    with (
        throwaway_database(postgres_admin_url, "e2e_appstore") as appstore_db,
        throwaway_database(postgres_admin_url, "e2e_dashboard") as dashboard_db,
    ):
        parts = Pipeline(tmp_path, rabbit, appstore_db, dashboard_db)
        if on_cluster:
            cluster = request.getfixturevalue("cluster")
            parts.appstore_env["BROKER_URL"] = cluster.url_from(1)
            parts.dashboard_env["BROKER_URL"] = cluster.url_from(2)
        try:
            parts.must(parts.appstore("db", "upgrade"), "appstore db upgrade")
            for username, role in (("admin", "admin"), ("service", "service")):
                created = parts.appstore(
                    "users", "create", "--username", username, "--password", PASSWORD,
                    "--role", role,
                )  # fmt: skip
                parts.must(created, f"appstore users create {username}")
            upgrade_dashboard(dashboard_db)
            rabbit.purge()  # the queue is bound: from here on it receives this pipeline's events
            parts.start_relay()
            parts.start_appstore()
            parts.start_worker()
            yield parts
        finally:
            parts.stop_all()


@pytest.fixture
def workload(pipeline) -> Workload:
    return Workload(pipeline)
