"""On PostgreSQL the catalogue's search is served by its indexes, never by a scan.

The plans checked are those of the very statements the endpoint sends, captured as it runs,
run again under EXPLAIN ANALYZE with sequential scans disabled, and only the nodes that ran:
where no index can serve a statement (another expression than the index's, an operator its
class lacks) PostgreSQL still scans, so the test fails. A search of letters and digits
counts its apps by their words (migration 0006), any other by the trigram indexes (0005);
the page of a search with few matches is sorted from the matches counted and must not walk
the primary key in id order (``FEW_MATCHES`` in ``appstore.services.apps``), and the page of
one with many must walk it rather than sort every match. Whether the planner prefers the
indexes on its own depends on the data: at 100,000 apps with word-like text it does
(``bench/catalogue.py`` measures both ways); on a few thousand it rightly scans.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import event, text

from .helpers import ids, pagination

APPS = "/api/v1/apps/"
COUNT = 2000
TRIGRAMS = {"ix_apps_title_trgm", "ix_apps_description_trgm"}
WORDS = {"ix_apps_catalogue_words"}
#: Either serves the few thousand words here; at scale the planner takes the trigrams.
VOCABULARY = {"ix_catalogue_vocabulary_trgm", "pk_catalogue_vocabulary"}


def word(n: int) -> str:
    return hashlib.md5(str(n).encode()).hexdigest()


@pytest.fixture
def many_apps(api, components):
    """``COUNT`` verified apps with hex titles and descriptions, analysed (and their words)."""
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
        connection.execute(text("ANALYZE apps, catalogue_vocabulary"))
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
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
                plans.append(json.dumps(cursor.fetchone()[0]))
    finally:
        raw.rollback()
        raw.close()
    return response, plans


def nodes(plan: dict, skip: str | None = None):
    """Every node of a plan from ``EXPLAIN (ANALYZE, FORMAT JSON)`` that ran, depth first,
    but the subplan named ``skip`` and its nodes."""
    if plan.get("Actual Loops") == 0 or (skip and plan.get("Subplan Name") == skip):
        return
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child, skip)


def parts(plan: dict) -> list[list[dict]]:
    """The nodes that ran of a statement, or of a search's two parts: the matches counted
    (the ``found`` CTE) and the page of apps taken from them or from a walk."""
    counted = next((n for n in nodes(plan) if n.get("Subplan Name") == "CTE found"), None)
    if counted is None:
        return [list(nodes(plan))]
    return [list(nodes(counted)), list(nodes(plan, skip="CTE found"))]


def summary(plans: list[str]) -> list[dict]:
    """Per statement, or per part of a search's: the indexes it reads (but the purchases',
    for the purchase counts and whether the caller bought each), whether it scans a table,
    walks the primary key from end to end (an index scan of it without a condition), or
    gathers apps from indexes (a bitmap heap scan)."""
    found = []
    for plan in plans:
        for every in parts(json.loads(plan)[0]["Plan"]):
            found.append(
                {
                    "indexes": {
                        n["Index Name"]
                        for n in every
                        if "Index Name" in n
                        and n.get("Relation Name") != "purchases"
                        and "_purchases_" not in n["Index Name"]
                    },
                    "scans": any(n["Node Type"] == "Seq Scan" for n in every),
                    "walks": any(
                        n.get("Index Name") == "pk_apps" and "Index Cond" not in n for n in every
                    ),
                    "gathers": any(
                        n["Node Type"] == "Bitmap Heap Scan" and n["Relation Name"] == "apps"
                        for n in every
                    ),
                }
            )
    return found


def expected_ids(rows, q: str) -> list[int]:
    q = q.lower()
    return sorted(row.id for row in rows if q in row.title.lower() or q in row.description.lower())


@pytest.mark.parametrize(
    ("q", "matches"),
    [
        (word(1234)[3:12].upper(), lambda title, description: word(1234) in title.lower()),
        (word(1001234)[5:14], lambda title, description: word(1001234) in description),
    ],
    ids=["title", "description"],
)
def test_a_search_of_letters_and_digits_reads_the_word_indexes(
    client, components, many_apps, q, matches
):
    owner, rows = many_apps
    expected = expected_ids(rows, q)
    assert expected
    assert all(matches(row.title, row.description) for row in rows if row.id in expected)

    response, plans = plans_of_searches(client, components, owner, q)

    assert ids(response) == expected
    assert pagination(response)["total"] == len(expected)
    # How many words contain it (a look at the vocabulary that stops past 100: any plan
    # serves it), then the count, which looks the words up itself, and the page, sorted
    # from the matches counted.
    vocabulary, count, page = summary(plans)
    assert not vocabulary["scans"], plans
    assert count["indexes"] - {"pk_apps"} - VOCABULARY == WORDS, plans
    assert page["indexes"] <= {"pk_apps"}, plans
    for part in (count, page):
        assert not part["scans"], plans
        assert not part["walks"], plans
    assert not page["gathers"], plans


@pytest.mark.parametrize("q", [f"does {word(1001234)[:7]}", f"{word(1001234)[-5:]} w"])
def test_any_other_search_reads_the_trigram_indexes(client, components, many_apps, q):
    owner, rows = many_apps
    expected = expected_ids(rows, q)
    assert expected

    response, plans = plans_of_searches(client, components, owner, q)

    assert ids(response) == expected
    assert pagination(response)["total"] == len(expected)
    count, page = summary(plans)
    assert count["indexes"] - {"pk_apps"} == TRIGRAMS, plans
    assert page["indexes"] <= {"pk_apps"}, plans
    for part in (count, page):
        assert not part["scans"], plans
        assert not part["walks"], plans
    assert not page["gathers"], plans


@pytest.mark.parametrize("q", ["app ", "does"], ids=["trigrams", "words"])
def test_the_page_of_a_search_most_apps_match_walks_the_apps_in_id_order(
    client, components, many_apps, q
):
    owner, rows = many_apps
    assert len(expected_ids(rows, q)) == COUNT

    response, plans = plans_of_searches(client, components, owner, q)

    assert ids(response) == sorted(row.id for row in rows)[:20]
    assert pagination(response)["total_exact"] is False
    page = summary(plans)[-1]
    assert page["walks"], plans
    assert not page["gathers"], plans
    assert not page["scans"], plans
