"""The Dashboard API with real parts: an Appstore issuing tokens, PostgreSQL or SQLite, Redis.

The Appstore is the real application, on SQLite, served over HTTP in a thread: the
Dashboard fetches its JWKS and proxies sign-ins to it as it would in production. Events are
folded with the real fold; the answers are compared with figures worked out from the same
events in plain Python.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from werkzeug.serving import make_server

from appstore.app import create_app as create_appstore
from appstore.bootstrap import bootstrap as bootstrap_appstore
from appstore.config import Settings as AppstoreSettings
from appstore.migrations import upgrade as upgrade_appstore
from appstore.security.tokens import TokenService
from appstore.services import users
from appstore.throttling import UNTHROTTLED
from appstore_events import Envelope
from dashboard.app import create_app
from dashboard.bootstrap import bootstrap
from dashboard.config import Settings
from dashboard.fold import fold
from dashboard.migrations import upgrade
from dashboard.models import Base, FoldProgress, Total
from servicekit import testing
from sqlstore import Database
from sqlstore.testing import throwaway_database

from ..truth import EventTruth

PASSWORD = "a long enough password"
ROLES = ("user", "service", "management", "admin")


@dataclasses.dataclass
class Appstore:
    """The running Appstore: its URL, and tokens signed with its real key."""

    url: str
    tokens: TokenService
    user_ids: dict[str, int]
    #: Every account's password; the usernames are ``<role>_account``.
    password: str = PASSWORD

    def token(self, role: str) -> str:
        return self.tokens.issue(self.user_ids[role], f"{role}_account", role)

    def expired_token(self, role: str) -> str:
        stale = TokenService(self.tokens.key, self.tokens.issuer, ttl_seconds=-120)
        return stale.issue(self.user_ids[role], f"{role}_account", role)


@pytest.fixture(scope="session")
def token_appstore(tmp_path_factory) -> Iterator[Appstore]:
    data_dir = tmp_path_factory.mktemp("appstore")
    url = f"sqlite:///{data_dir / 'appstore.db'}"
    upgrade_appstore(url)
    parts = bootstrap_appstore(
        AppstoreSettings(
            database_url=url, data_dir=data_dir, password_profile="cheapest", **UNTHROTTLED
        )
    )
    user_ids = {
        role: users.register(
            parts.db,
            parts.passwords,
            username=f"{role}_account",
            email=f"{role}@example.com",
            password=PASSWORD,
            role=role,
        ).id
        for role in ROLES
    }
    server = make_server("127.0.0.1", 0, create_appstore(components=parts), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Appstore(f"http://127.0.0.1:{server.server_port}", parts.tokens, user_ids)
    server.shutdown()
    thread.join()
    parts.db.dispose()


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url) -> Iterator[str]:
    with throwaway_database(postgres_admin_url, "dashboard_api") as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis from TEST_REDIS_URL, else a container, else a failure saying what to start."""
    try:
        return testing.redis_url()
    except testing.ServiceUnavailable as error:
        pytest.fail(str(error), pytrace=False)


class Stack:
    """One Dashboard app on a freshly emptied database, with a cache of its own."""

    def __init__(
        self,
        database_url: str,
        redis_url: str | None,
        appstore: Appstore,
        appstore_url: str | None = None,
    ) -> None:
        self.appstore = appstore
        self.settings = Settings(
            database_url=database_url,
            redis_url=redis_url,
            appstore_url=appstore_url or appstore.url,
        )
        # A key prefix per stack: entries of an earlier test, whose generations restart
        # from 0 too, are never found.
        self.cache_prefix = f"dashboard-test-{uuid.uuid4().hex}:"
        self.parts = bootstrap(self.settings, cache_prefix=self.cache_prefix)
        self.db: Database = self.parts.db
        _empty(self.db)
        self.app = create_app(components=self.parts)
        self.client = self.app.test_client()

    def another_app(self):
        """A second application, as another server process would hold it."""
        parts = bootstrap(self.settings, cache_prefix=self.cache_prefix)
        return create_app(components=parts), parts

    def fold(self, envelopes: list[Envelope]) -> None:
        with self.db.transaction() as session:
            fold(session, envelopes)

    def headers(self, role: str = "management") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.appstore.token(role)}"}

    def get(self, path: str, role: str = "management", **params: Any):
        return self.client.get(path, query_string=params, headers=self.headers(role))

    def ok(self, path: str, **params: Any):
        """GET as management; the answer must be 200."""
        response = self.get(path, **params)
        assert response.status_code == 200, (response.status_code, response.get_data(True))
        return response

    def close(self) -> None:
        self.parts.close()


def _empty(database: Database) -> None:
    with database.engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            if table is Total.__table__:
                connection.execute(update(table).values(value=0))
            elif table is FoldProgress.__table__:
                connection.execute(
                    update(table).values(
                        contiguous_through=0, last_sequence=0, last_event_at=None, generation=0
                    )
                )
            else:
                connection.execute(table.delete())


@pytest.fixture
def make_stack(request, token_appstore):
    """``make_stack("postgres", "redis")``: a stack, closed afterwards. ``appstore_url`` and
    ``redis_at`` point it elsewhere (at nothing, say)."""
    made: list[Stack] = []

    def make(
        backend: str, cache: str, appstore_url: str | None = None, redis_at: str | None = None
    ) -> Stack:
        database_url = request.getfixturevalue(f"{backend}_url")
        if cache == "redis":
            redis_at = redis_at or request.getfixturevalue("redis_url")
        made.append(Stack(database_url, redis_at, token_appstore, appstore_url))
        return made[-1]

    yield make
    for stack in made:
        stack.close()


@pytest.fixture(params=["postgres+redis", "sqlite+memory"])
def stack(request, make_stack) -> Stack:
    """The app on PostgreSQL with Redis, then on SQLite with the in-process cache."""
    return make_stack(*request.param.split("+"))


@pytest.fixture
def postgres_stack(make_stack) -> Stack:
    """PostgreSQL with the in-process cache: for what needs one backend only."""
    return make_stack("postgres", "memory")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


OWNERS = {101: "ada", 102: "bo", 103: "cy", 104: "di"}
#: Berlin leaves summer time at 2026-10-25T01:00Z and enters it at 2026-03-29T01:00Z.
AUTUMN = (utc("2026-10-23T00:00:00+00:00"), utc("2026-10-27T00:00:00+00:00"))
SPRING = (utc("2026-03-28T00:00:00+00:00"), utc("2026-03-31T00:00:00+00:00"))
PINNED = [
    "2026-10-25T00:30:00+00:00",  # 02:30 CEST, the first 02:30 in Berlin
    "2026-10-25T01:30:00+00:00",  # 02:30 CET, the second
    "2026-10-25T00:59:59.999999+00:00",
    "2026-10-25T01:00:00+00:00",
    "2026-10-24T22:00:00+00:00",  # Berlin's midnight of the 25th
    "2026-10-25T23:00:00+00:00",  # Berlin's midnight of the 26th
    "2026-10-24T18:14:59.999999+00:00",  # the last instant of a quarter-hour
    "2026-10-24T18:15:00+00:00",
    "2026-03-29T00:59:00+00:00",  # 01:59 CET
    "2026-03-29T01:00:00+00:00",  # 03:00 CEST: Berlin's 02:00 hour never happens
]


GRANTED = [
    "2026-10-25T00:59:59.999999+00:00",
    "2026-10-25T01:00:00+00:00",
    "2026-10-24T22:00:00+00:00",
    "2026-10-24T18:14:59.999999+00:00",
    "2026-03-29T00:59:00+00:00",
    "2026-03-29T01:00:00+00:00",
]
PRICE_CHANGES = [("2026-10-24T12:00:00+00:00", 55), ("2026-10-26T08:00:00+00:00", 20)]


def scripted_events(log, seed: int = 7) -> list[Envelope]:
    """Users, apps and about 500 purchases around both of Berlin's 2026 clock changes,
    with purchases and credit grants pinned on bucket edges; one purchase long before, for
    all-time; two price changes of app 3. ``log`` is the ``log`` fixture's builder."""
    rng = random.Random(seed)
    events = [
        log.registered(owner, name, utc("2026-03-01T08:00:00+00:00"))
        for owner, name in OWNERS.items()
    ]
    buyers = list(range(1, 41))
    for buyer in buyers:
        at = AUTUMN[0] + timedelta(
            seconds=rng.randrange(int((AUTUMN[1] - AUTUMN[0]).total_seconds()))
        )
        events.append(log.registered(buyer, f"buyer{buyer}", at))
    apps = {}
    for app_id in range(1, 13):
        owner = 101 + app_id % 4
        apps[app_id] = owner
        created = utc("2026-03-02T09:00:00+00:00") + timedelta(hours=app_id * 7, minutes=app_id)
        events.append(log.created(app_id, owner, f"App {app_id}", created))
        if app_id % 3:
            events.append(log.verified(app_id, created + timedelta(hours=1)))
    events += [log.granted(b, 100 * b, AUTUMN[0] + timedelta(hours=b)) for b in buyers[:10]]
    moments = [utc(text) for text in PINNED]
    for start, end, count in ((*AUTUMN, 420), (*SPRING, 60)):
        span = int((end - start).total_seconds() * 1_000_000)
        moments += [start + timedelta(microseconds=rng.randrange(span)) for _ in range(count)]
    moments.append(utc("2026-01-15T12:00:00+00:00"))
    for purchase_id, at in enumerate(moments, start=1):
        app_id = rng.randrange(1, 13)
        price = rng.choice([0, 5, 10, 25, 100])
        events.append(
            log.purchased(purchase_id, app_id, rng.choice(buyers), apps[app_id], price, at)
        )
    # Credit granted on bucket edges around both clock changes, and app 3's price changed
    # twice: credit per bucket, and a price history.
    for user, text in enumerate(GRANTED, start=1):
        events.append(log.granted(user, 7 * user, utc(text)))
    events += [log.updated(3, utc(text), price=price) for text, price in PRICE_CHANGES]
    return events


@pytest.fixture
def store(stack, log) -> EventTruth:
    """The scripted events folded into the stack, in shuffled batches; their truth."""
    events = scripted_events(log)
    shuffled = random.Random(3).sample(events, len(events))
    for start in range(0, len(shuffled), 97):
        stack.fold(shuffled[start : start + 97])
    return EventTruth(events)
