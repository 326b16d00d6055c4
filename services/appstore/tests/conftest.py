"""Fixtures shared by the Appstore's tests: real databases, the app, and an API client."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import text

from appstore.app import create_app
from appstore.bootstrap import Components, bootstrap
from appstore.config import Settings
from appstore.migrations import upgrade
from appstore.models import Base, OutboxProgress
from appstore.security.principal import Principal
from appstore.services import users
from appstore.throttling import UNTHROTTLED
from servicekit.testing import ServiceUnavailable, rabbitmq_url
from sqlstore.testing import postgres_server, throwaway_database

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def postgres_admin_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def broker_url() -> str:
    """RabbitMQ from TEST_BROKER_URL, else a container, else a failure saying what to start."""
    try:
        return rabbitmq_url()
    except ServiceUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url):
    """A migrated PostgreSQL database for this test run."""
    with throwaway_database(postgres_admin_url, "appstore_test") as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'appstore.db'}"
    upgrade(url)
    return url


def make_settings(url: str, data_dir: Path) -> Settings:
    return Settings(database_url=url, data_dir=data_dir, password_profile="cheapest", **UNTHROTTLED)


@pytest.fixture(scope="session", params=["postgres"])
def backend_url(request):
    """The database the API tests run on; a module may widen ``params`` to both backends."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def components_for(tmp_path_factory):
    """Bootstrapped components for a database URL, made once per run and URL."""
    made: dict[str, Components] = {}

    def components_on(url: str) -> Components:
        if url not in made:
            made[url] = bootstrap(make_settings(url, tmp_path_factory.mktemp("data")))
        return made[url]

    yield components_on
    for parts in made.values():
        parts.db.dispose()


@pytest.fixture(scope="module")
def components(backend_url, components_for) -> Components:
    # Module scope: a session-scoped fixture made by an earlier module would be kept for a
    # module that widens ``backend_url`` to SQLite, and its tests would run on PostgreSQL.
    return components_for(backend_url)


@pytest.fixture(autouse=True)
def _empty_tables(request):
    """Each test that uses the database starts from empty tables and ids counted from 1.

    DELETE and a sequence reset, not TRUNCATE: on tables this small TRUNCATE costs about
    60 ms on PostgreSQL against about 3 ms, and the tests are many.
    """
    yield
    if "components" not in request.fixturenames:
        return
    db = request.getfixturevalue("components").db
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table is OutboxProgress.__table__:
                connection.execute(table.update().values(published_through=0))
            else:
                connection.execute(table.delete())
        if not db.is_sqlite:
            sequences = connection.scalars(
                text(
                    "SELECT sequence_name FROM information_schema.sequences"
                    " WHERE sequence_schema = current_schema()"
                )
            ).all()
            for name in sequences:
                connection.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))


@pytest.fixture
def app(components):
    return create_app(components=components)


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """A test client that knows how to make accounts and sign requests."""

    _names = itertools.count()

    def __init__(self, client, components: Components) -> None:
        self.client = client
        self.components = components

    def user(self, role: str = "user", credit: int = 0, name: str | None = None) -> dict:
        """Create an account straight through the service layer; return it with its token."""
        name = name or f"{role}{next(self._names)}"
        parts = self.components
        user = users.register(
            parts.db, parts.passwords, name, f"{name}@example.com", PASSWORD, role
        )
        if credit:
            users.grant_credit(parts.db, Principal(user.id, name, "admin"), user.id, credit)
        token = parts.tokens.issue(user.id, name, role)
        return {"id": user.id, "username": name, "token": token, "headers": auth(token)}

    def app(self, owner: dict, *, price: int = 10, verified: bool = True, **fields) -> dict:
        body = {
            "title": fields.pop("title", f"App of {owner['username']}"),
            "description": fields.pop("description", "Does useful things."),
            "price": price,
            "access_link": "https://apps.example.com/download",
            **fields,
        }
        created = self.client.post("/api/v1/apps/", json=body, headers=owner["headers"])
        assert created.status_code == 201, created.get_json()
        app = created.get_json()
        if verified:
            admin = self.user("admin")
            verified_app = self.client.post(
                f"/api/v1/apps/{app['id']}/verify", headers=admin["headers"]
            )
            assert verified_app.status_code == 200, verified_app.get_json()
            app = verified_app.get_json()
        return app

    def balance(self, user: dict) -> int:
        return self.client.get("/api/v1/users/me", headers=user["headers"]).get_json()["credit"]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(client, components) -> Api:
    return Api(client, components)
