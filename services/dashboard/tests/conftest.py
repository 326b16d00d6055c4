"""Fixtures shared by the Dashboard's tests: RabbitMQ, envelopes as the Appstore logs them,
and ``appstore serve`` on a prepared database."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pika
import pytest

from appstore.throttling import UNTHROTTLED_ENV
from appstore_events import EXCHANGE, Envelope, encode, new_envelope, routing_key_for
from dashboard.migrations import upgrade
from dashboard.rabbitmq import connect
from dashboard.worker.queue_migration import migrate
from dashboard.worker.topology import QUEUE_ARGUMENTS, declare
from servicekit.rabbitmq_cluster import Cluster, running_cluster
from servicekit.testing import ServiceUnavailable, free_port, rabbitmq_url, serving
from sqlstore.testing import postgres_server

CLUSTER_SCRIPT = Path(__file__).parents[3] / "infra" / "rabbitmq" / "cluster.sh"


class Rabbit:
    """A connection to the test broker with the dashboard's topology declared."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connect()

    def _connect(self) -> None:
        try:
            self.connection = connect(self.url, name="dashboard-tests")
        except pika.exceptions.AMQPConnectionError as error:
            pytest.fail(
                f"RabbitMQ is not reachable at {self.url}: {error!r}; start it "
                "(rabbitmq-server -detached) or set TEST_BROKER_URL",
                pytrace=False,
            )
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        declare(self.channel)

    def purge(self, names=tuple(QUEUE_ARGUMENTS)) -> None:
        for name in names:
            self._retrying(lambda name=name: self.channel.queue_purge(name))

    def _retrying(self, action: Callable[[], object]) -> object:
        # The broker is shared: other suites close every connection on it now and then.
        # Repeating a publish is harmless here; delivery is at-least-once anyway.
        for _attempt in range(5):
            try:
                return action()
            except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError):
                time.sleep(0.2)
                self._connect()
        return action()

    def publish(
        self,
        body: bytes,
        routing_key: str,
        message_id: str | None = None,
        *,
        headers: dict | None = None,
        content_type: str = "application/json",
    ) -> None:
        properties = pika.BasicProperties(
            content_type=content_type, delivery_mode=2, message_id=message_id, headers=headers
        )
        self._retrying(lambda: self._publish(body, routing_key, properties))

    def _publish(self, body: bytes, routing_key: str, properties: pika.BasicProperties) -> None:
        self.channel.basic_publish(EXCHANGE, routing_key, body, properties)

    def publish_events(self, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            self.publish(encode(envelope), routing_key_for(envelope.event_type), envelope.event_id)

    def depth(self, name: str) -> int:
        return self._retrying(
            lambda: self.channel.queue_declare(name, passive=True).method.message_count
        )

    def drained(self, name: str, timeout: float, quiet: float) -> bool:
        """Whether queue ``name`` had no ready message for ``quiet`` seconds in a row within
        ``timeout`` seconds, so that what a consumer had prefetched is done too."""
        deadline = time.monotonic() + timeout
        empty_since = None
        while time.monotonic() < deadline:
            if self.depth(name) == 0:
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since >= quiet:
                    return True
            else:
                empty_since = None
            time.sleep(0.1)
        return False

    def get_all(self, name: str) -> list[bytes]:
        bodies = []
        while True:
            method, _properties, body = self.channel.basic_get(name, auto_ack=True)
            if method is None:
                return bodies
            bodies.append(body)

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The URL of a PostgreSQL server where the tests may create databases."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    """A migrated SQLite file for this test run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'dashboard.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def broker_url() -> str:
    """RabbitMQ from TEST_BROKER_URL, else a container, else a failure saying what to start.

    Its queues are made what the worker declares: the classic queues an older version left
    on a long-lived test broker are migrated (``dashboard queues migrate``) first.
    """
    try:
        url = rabbitmq_url()
    except ServiceUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    migrate(url)
    return url


@pytest.fixture
def rabbit(broker_url) -> Iterator[Rabbit]:
    """The dashboard's queues, declared, bound and empty before and after the test."""
    with _emptied(Rabbit(broker_url)) as connection:
        yield connection


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A three-node RabbitMQ cluster (``infra/rabbitmq/cluster.sh``) for the tests marked
    ``cluster``; started on first use, stopped and removed after the session."""
    with running_cluster(CLUSTER_SCRIPT) as started:
        yield started


@pytest.fixture
def cluster_rabbit(cluster) -> Iterator[Rabbit]:
    """:func:`rabbit` on the cluster, connected to all three nodes."""
    with _emptied(Rabbit(cluster.url)) as connection:
        yield connection


@contextlib.contextmanager
def _emptied(connection: Rabbit) -> Iterator[Rabbit]:
    connection.purge()
    try:
        yield connection
    finally:
        connection.purge()
        connection.close()


# --- envelopes --------------------------------------------------------------------------------


def moment(at: str | datetime) -> datetime:
    """``at`` itself, or for ``"hh:mm:ss"`` that time on the scripted day, in UTC."""
    if isinstance(at, datetime):
        return at
    return datetime.fromisoformat(f"2026-11-26T{at}+00:00")


class EventLog:
    """Builds envelopes the way the Appstore publishes them: numbered in order, with
    ``occurred_at`` equal to the domain time the payload carries. Times are datetimes or
    ``"hh:mm:ss"`` on the scripted day (see :func:`moment`)."""

    def __init__(self) -> None:
        self._sequences = itertools.count(1)

    def event(
        self, event_type: str, at: str | datetime, *, sequence: int | None = None, **data
    ) -> Envelope:
        """An event of ``event_type`` happening at ``at``; the ``*_at`` fields of ``data``
        may be given as :func:`moment` takes them."""
        loaded = {k: moment(v) if k.endswith("_at") else v for k, v in data.items()}
        envelope = new_envelope(event_type, loaded)
        number = next(self._sequences) if sequence is None else sequence
        return dataclasses.replace(envelope, occurred_at=moment(at)).with_sequence(number)

    def registered(self, user_id: int, username: str, at: str | datetime, **kw) -> Envelope:
        return self.event(
            "UserRegistered",
            at,
            user_id=user_id,
            username=username,
            role="user",
            registered_at=at,
            **kw,
        )

    def granted(self, user_id: int, amount: int, at: str | datetime, **kw) -> Envelope:
        return self.event(
            "CreditGranted", at, user_id=user_id, amount=amount, granted_by=99, granted_at=at, **kw
        )

    def created(self, app_id: int, owner_id: int, title: str, at: str | datetime, **kw) -> Envelope:
        return self.event(
            "AppCreated",
            at,
            app_id=app_id,
            owner_id=owner_id,
            title=title,
            price=kw.pop("price", 10),
            created_at=at,
            **kw,
        )

    def updated(
        self, app_id: int, at: str | datetime, sequence: int | None = None, **changes
    ) -> Envelope:
        return self.event("AppUpdated", at, sequence=sequence, app_id=app_id, changes=changes)

    def verified(self, app_id: int, at: str | datetime, **kw) -> Envelope:
        return self.event("AppVerified", at, app_id=app_id, verified_by=99, verified_at=at, **kw)

    def deleted(self, app_id: int, at: str | datetime, **kw) -> Envelope:
        return self.event("AppDeleted", at, app_id=app_id, deleted_by=99, deleted_at=at, **kw)

    def purchased(
        self,
        purchase_id: int,
        app_id: int,
        buyer_id: int,
        owner_id: int,
        price: int,
        at: str | datetime,
    ) -> Envelope:
        return self.event(
            "AppPurchased",
            at,
            purchase_id=purchase_id,
            app_id=app_id,
            buyer_id=buyer_id,
            owner_id=owner_id,
            price=price,
            purchased_at=at,
        )


@pytest.fixture
def log() -> EventLog:
    return EventLog()


# --- the Appstore -----------------------------------------------------------------------------


@contextlib.contextmanager
def served_appstore(database_url: str, data_dir: Path, workers: int = 2) -> Iterator[str]:
    """``appstore serve`` on a migrated database until the block ends; yields its URL. Its
    output goes to ``data_dir/serve.log``."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("APPSTORE_")},
        "APPSTORE_DATABASE_URL": database_url,
        "APPSTORE_DATA_DIR": str(data_dir),
        "APPSTORE_PASSWORD_PROFILE": "cheapest",
        **UNTHROTTLED_ENV,
    }
    command = [str(Path(sys.executable).with_name("appstore")), "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with serving([*command, "--workers", str(workers)], env, url, data_dir / "serve.log"):
        yield url


@pytest.fixture(scope="session")
def serve_appstore():
    """:func:`served_appstore`, for fixtures of any scope."""
    return served_appstore
