"""On PostgreSQL the catalogue's search can be served by its trigram indexes.

The plans checked are those of the very statements the endpoint sends, captured as it runs,
explained with sequential scans disabled: where the trigram indexes cannot serve a statement
(another expression than the index's, an operator their class lacks) PostgreSQL still scans,
so the test fails; and the page of a search with few matches must not walk the primary key
in id order (``FEW_MATCHES`` in ``appstore.services.apps``) either. Whether the planner
prefers the indexes on its own depends on the data: at 100,000 apps with word-like text it
does (``bench/catalogue.py`` measures both ways); on a few thousand it rightly scans.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import event, text

from .helpers import ids, pagination

APPS = "/api/v1/apps/"
COUNT = 2000
INDEXES = {"ix_apps_title_trgm", "ix_apps_description_trgm"}


def word(n: int) -> str:
    return hashlib.md5(str(n).encode()).hexdigest()


@pytest.fixture
def many_apps(api, components):
    """``COUNT`` verified apps with hex titles and descriptions, analysed."""
    owner = api.user()
    with components.db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO apps (owner_id, title, description, price, access_link,"
                " access_key, verified, created_at, updated_at)"
                " SELECT :owner, 'App ' || upper(md5(n::text)),"
                " 'Does ' || md5((n + 1000000)::text) || ' well.', 10, 'https://x.test/',"
                " 'key', true, now(), now() FROM generate_series(1, :count) AS n"
            ),
            {"owner": owner["id"], "count": COUNT},
        )
        connection.execute(text("ANALYZE apps"))
        rows = connection.execute(text("SELECT id, title, description FROM apps")).all()
    return owner, rows


def plans_of_searches(client, components, owner, q) -> tuple[object, list[str]]:
    """GET the catalogue searching ``q``; the response and the plans of its LIKE statements."""
    sent = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        if " LIKE " in statement:
            sent.append((statement, parameters))

    engine = components.db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        response = client.get(APPS, query_string={"q": q}, headers=owner["headers"])
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            # For this transaction only, which is rolled back.
            cursor.execute("SET LOCAL enable_seqscan = off")
            for statement, parameters in sent:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
                plans.append(json.dumps(cursor.fetchone()[0]))
    finally:
        raw.rollback()
        raw.close()
    return response, plans


@pytest.mark.parametrize(
    ("q", "matches"),
    [
        (word(1234)[3:12].upper(), lambda title, description: word(1234) in title.lower()),
        (word(1001234)[5:14], lambda title, description: word(1001234) in description),
    ],
    ids=["title", "description"],
)
def test_search_reads_the_trigram_indexes(client, components, many_apps, q, matches):
    owner, rows = many_apps
    expected = sorted(
        row.id for row in rows if q.lower() in row.title.lower() or q.lower() in row.description
    )
    assert expected
    assert all(matches(row.title, row.description) for row in rows if row.id in expected)

    response, plans = plans_of_searches(client, components, owner, q)

    assert ids(response) == expected
    assert pagination(response)["total"] == len(expected)
    assert len(plans) == 2  # the count, and the page
    for plan in plans:
        assert '"Seq Scan"' not in plan, plan
        assert '"Index Name": "pk_apps"' not in plan, plan
        assert all(f'"Index Name": "{name}"' in plan for name in INDEXES), plan
