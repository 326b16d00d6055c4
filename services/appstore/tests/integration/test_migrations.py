"""The migrations build the tables the models describe, and carry old rows across."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from appstore.errors import InsufficientCredit, NotFound
from appstore.migrations import HERE, upgrade
from appstore.models import Base
from appstore.security.principal import Principal
from appstore.services import purchases
from sqlstore import Database
from sqlstore.migrations import alembic_config
from sqlstore.testing import throwaway_database

# SQLite cannot reflect the case-insensitive username index; both libraries say so each time.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection:sqlalchemy.exc.SAWarning"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
]

# The answers an Appstore before outcome names kept: one row per status code it wrote.
OLD_RECORDS = [
    # buyer_id, key, app_id, status_code, message
    (2, "paid", 1, 201, None),
    (3, "poor", 1, 402, "App 1 costs 30 credits; your balance is 5."),
    (1, "own", 1, 403, "You cannot buy your own app."),
    (2, "gone", 9, 404, "App 9 does not exist."),
    (2, "again", 1, 409, "You already own app 1."),
]
OUTCOMES = {
    "paid": "purchased",
    "poor": "insufficient_credit",
    "own": "forbidden",
    "gone": "not_found",
    "again": "conflict",
}


@pytest.fixture(params=["postgres", "sqlite"])
def empty_url(request, tmp_path):
    """An empty database of either backend, for migrating step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'appstore.db'}"
        return
    with throwaway_database(request.getfixturevalue("postgres_admin_url"), "appstore_mig") as url:
        yield url


def rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def fill_at_0002(url: str) -> None:
    """Three users, an app, one purchase and the idempotency records of ``OLD_RECORDS``."""
    engine = create_engine(url)
    now = "2026-11-26 18:00:00+00:00"
    try:
        with engine.begin() as connection:
            for user_id in (1, 2, 3):
                connection.execute(
                    text(
                        "INSERT INTO users (id, username, email, password_hash, role, credit,"
                        " created_at) VALUES (:id, :name, :email, 'x', 'user', 0, :now)"
                    ),
                    {"id": user_id, "name": f"u{user_id}", "email": f"u{user_id}@x", "now": now},
                )
            connection.execute(
                text(
                    "INSERT INTO apps (id, owner_id, title, description, price, access_link,"
                    " access_key, verified, created_at, updated_at) VALUES (1, 1, 'App', 'Does',"
                    " 30, 'https://x/app', 'secret', :yes, :now, :now)"
                ),
                {"yes": True, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO purchases (id, app_id, buyer_id, price, created_at)"
                    " VALUES (1, 1, 2, 30, :now)"
                ),
                {"now": now},
            )
            for buyer_id, key, app_id, status_code, message in OLD_RECORDS:
                connection.execute(
                    text(
                        "INSERT INTO idempotency_records (buyer_id, key, app_id, status_code,"
                        " message, created_at) VALUES (:buyer, :key, :app, :status, :message,"
                        " :now)"
                    ),
                    {
                        "buyer": buyer_id,
                        "key": key,
                        "app": app_id,
                        "status": status_code,
                        "message": message,
                        "now": now,
                    },
                )
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgres_url", "sqlite_url"])
def test_the_migrated_schema_matches_the_models(request, backend):
    engine = create_engine(request.getfixturevalue(backend))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_upgrade_names_the_outcome_of_every_old_record(empty_url):
    upgrade(empty_url, "0002")
    fill_at_0002(empty_url)

    upgrade(empty_url)

    assert dict(rows(empty_url, "SELECT key, outcome FROM idempotency_records")) == OUTCOMES
    kept = rows(empty_url, "SELECT buyer_id, key, app_id, message FROM idempotency_records")
    assert sorted(kept) == sorted((b, k, a, m) for b, k, a, _, m in OLD_RECORDS)


def test_old_records_replay_their_first_answers_after_the_upgrade(empty_url):
    upgrade(empty_url, "0002")
    fill_at_0002(empty_url)
    upgrade(empty_url)
    db = Database(empty_url)
    try:
        bought = purchases.purchase(db, Principal(2, "u2", "user"), 1, "paid")
        with pytest.raises(InsufficientCredit) as poor:
            purchases.purchase(db, Principal(3, "u3", "user"), 1, "poor")
        with pytest.raises(NotFound) as gone:
            purchases.purchase(db, Principal(2, "u2", "user"), 9, "gone")
    finally:
        db.dispose()

    assert (bought.id, bought.buyer_id, bought.access_key) == (1, 2, "secret")
    assert poor.value.message == "App 1 costs 30 credits; your balance is 5."
    assert gone.value.message == "App 9 does not exist."


def test_downgrade_gives_the_status_codes_back(empty_url):
    upgrade(empty_url, "0002")
    fill_at_0002(empty_url)
    upgrade(empty_url)

    command.downgrade(alembic_config(HERE, empty_url), "0002")

    assert sorted(rows(empty_url, "SELECT key, status_code FROM idempotency_records")) == sorted(
        (key, status_code) for _, key, _, status_code, _ in OLD_RECORDS
    )
    upgrade(empty_url)
    assert dict(rows(empty_url, "SELECT key, outcome FROM idempotency_records")) == OUTCOMES


def test_upgrade_to_the_ledger_settles_old_purchases_and_counts_them(empty_url):
    upgrade(empty_url, "0002")
    fill_at_0002(empty_url)

    upgrade(empty_url, "0004")

    assert rows(empty_url, "SELECT owner_id, settled_at IS NOT NULL FROM purchases") == [(1, True)]
    assert rows(empty_url, "SELECT id, settled_purchases FROM apps") == [(1, 1)]
    assert rows(empty_url, "SELECT id, credit FROM users ORDER BY id") == [(1, 0), (2, 0), (3, 0)]


def test_downgrade_from_the_ledger_pays_pending_earnings_into_balances(empty_url):
    upgrade(empty_url, "0002")
    fill_at_0002(empty_url)
    upgrade(empty_url)
    db = Database(empty_url)
    try:
        with db.transaction() as session:
            session.execute(text("UPDATE users SET credit = 30 WHERE id = 3"))
            if not db.is_sqlite:  # the old purchase was inserted with its id
                session.execute(text("SELECT setval('purchases_id_seq', 1)"))
        purchases.purchase(db, Principal(3, "u3", "user"), 1)
    finally:
        db.dispose()
    assert rows(empty_url, "SELECT id, credit FROM users ORDER BY id") == [(1, 0), (2, 0), (3, 0)]

    command.downgrade(alembic_config(HERE, empty_url), "0003")

    assert rows(empty_url, "SELECT id, credit FROM users ORDER BY id") == [(1, 30), (2, 0), (3, 0)]
    assert rows(empty_url, "SELECT count(*) FROM purchases") == [(2,)]
    upgrade(empty_url)
    assert rows(empty_url, "SELECT count(*) FROM purchases WHERE settled_at IS NULL") == [(0,)]
    assert rows(empty_url, "SELECT id, settled_purchases FROM apps") == [(1, 2)]
    assert rows(empty_url, "SELECT id, credit FROM users ORDER BY id") == [(1, 30), (2, 0), (3, 0)]


def test_upgrade_gathers_the_words_of_the_apps_there_are(empty_url):
    upgrade(empty_url, "0002")
    fill_at_0002(empty_url)  # one app, "App" that "Does"
    upgrade(empty_url)
    words = {word for (word,) in rows(empty_url, "SELECT word FROM catalogue_vocabulary")}
    # SQLite has the table but no triggers: its search scans the apps.
    assert words == ({"app", "does"} if empty_url.startswith("postgresql") else set())
