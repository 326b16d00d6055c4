"""Filling an Appstore database for the catalogue benchmark, fast: SQL, not the API.

A store of listed apps with many purchases (one app holding a tenth of them) for the
catalogue's pages, and a store of many apps with word-like titles and descriptions for its
search. Purchases are made by ``INSERT ... SELECT generate_series`` and apps by ``COPY``, in
seconds where the API would take hours. What the schema and the service promise still holds:
every purchase names a user and an app that exist, no buyer owns what they bought, each
(buyer, app) pair once, every credit was granted (``credit_grants``), balances are what the
grants less the purchases make them; and where the schema keeps a purchase count on each
app (``apps.purchases_count`` or ``apps.settled_purchases``) or records on each purchase the
owner it pays and when that was settled, those are filled too (checked at run time).
"""

from __future__ import annotations

import io
import itertools
import random

import psycopg2
from sqlalchemy.engine import make_url

PRICE = 3
#: Credit each buyer keeps after their purchases.
LEFT_OVER = 100
ADMIN_ID = 1


def connect(url: str):
    """A psycopg2 connection in autocommit to the database at SQLAlchemy ``url``."""
    parsed = make_url(url).set(drivername="postgresql")
    connection = psycopg2.connect(parsed.render_as_string(hide_password=False))
    connection.autocommit = True
    return connection


def _users(cursor, first_id: int, count: int, prefix: str, role: str = "user") -> None:
    cursor.execute(
        "INSERT INTO users (id, username, email, password_hash, role, credit, created_at)"
        " SELECT n, %(prefix)s || n, %(prefix)s || n || '@bench.test', 'not a hash',"
        " %(role)s, 0, now() - interval '60 days' FROM generate_series(%(first)s, %(last)s) n",
        {"prefix": prefix, "role": role, "first": first_id, "last": first_id + count - 1},
    )


def _finish(cursor) -> None:
    """Balances and counts from the purchases; sequences past the ids given; statistics."""
    # Each buyer was granted what they spent plus LEFT_OVER; owners hold their sales.
    cursor.execute(
        "INSERT INTO credit_grants (user_id, amount, granted_by, note, created_at)"
        " SELECT buyer_id, sum(price) + %s, %s, 'bench', now() - interval '45 days'"
        " FROM purchases GROUP BY buyer_id",
        (LEFT_OVER, ADMIN_ID),
    )
    cursor.execute(
        "UPDATE users SET credit = %s FROM credit_grants g WHERE g.user_id = users.id", (LEFT_OVER,)
    )
    cursor.execute(
        "UPDATE users SET credit = sales.total FROM (SELECT a.owner_id, sum(p.price) AS total"
        " FROM purchases p JOIN apps a ON a.id = p.app_id GROUP BY a.owner_id) sales"
        " WHERE sales.owner_id = users.id"
    )
    # A count kept on the app, by whichever name the schema gives it.
    for counter in {"purchases_count", "settled_purchases"} & columns(cursor, "apps"):
        cursor.execute(
            f"UPDATE apps SET {counter} = counted.n FROM (SELECT app_id, count(*) AS n"
            " FROM purchases GROUP BY app_id) counted WHERE counted.app_id = apps.id"
        )
    for table in ("users", "apps", "purchases", "credit_grants"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
        )
    cursor.execute("VACUUM ANALYZE")


def columns(cursor, table: str) -> set[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    )
    return {row[0] for row in cursor.fetchall()}


def _purchases_insert(have: set[str]) -> str:
    """``INSERT ... SELECT generate_series`` of purchases, with ``{app}`` and ``{buyer}`` to
    fill in as SQL of ``n``; each is paid to the app's owner, at once.

    Where purchases record the owner they pay (``owner_id``) and when that was settled into
    the owner's balance (``settled_at``), both are filled: settled when made, as the
    balances ``_finish`` sets already hold the earnings.
    """
    names, values = ["app_id", "buyer_id", "price", "created_at"], ["app", "buyer", PRICE, "at"]
    if "owner_id" in have:  # the formula seed_listing gives apps their owners by
        names.append("owner_id")
        values.append("%(first_owner)s + (app - 1) %% %(owners)s")
    if "settled_at" in have:
        names.append("settled_at")
        values.append("at")
    return (
        f"INSERT INTO purchases ({', '.join(names)}) SELECT {', '.join(map(str, values))}"
        " FROM (SELECT {app} AS app, {buyer} AS buyer, now() - make_interval(secs => n) AS at"
        " FROM generate_series(0, %(count)s - 1) n) made"
    )


def seed_listing(url: str, purchases: int, apps: int, owners: int, hot_share: float) -> dict:
    """Verified apps of ``owners`` developers and ``purchases`` purchases of them.

    App 1 (first on the first page) holds ``hot_share`` of the purchases; the others share
    the rest evenly. Buyers are as many as the hot app needs, each buying once per app.

    Returns:
        The ids the benchmark needs: ``buyer_id`` (a buyer of every app but the hot one) and
        ``hot_app_id``, and the number of ``buyers``.
    """
    hot = int(purchases * hot_share)
    rest = purchases - hot
    buyers = max(hot, -(-rest // (apps - 1)), 1)
    first_owner, first_buyer = ADMIN_ID + 1, ADMIN_ID + 1 + owners
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            _users(cursor, ADMIN_ID, 1, "bench-admin", "admin")
            _users(cursor, first_owner, owners, "dev")
            _users(cursor, first_buyer, buyers, "buyer")
            cursor.execute(
                "INSERT INTO apps (id, owner_id, title, description, price, access_link,"
                " access_key, verified, created_at, updated_at)"
                " SELECT n, %(first_owner)s + (n - 1) %% %(owners)s, 'App ' || n,"
                " 'Benchmark app number ' || n || '.', %(price)s, 'https://bench.test/app',"
                " md5(n::text), true, now() - interval '50 days', now() - interval '50 days'"
                " FROM generate_series(1, %(apps)s) n",
                {"first_owner": first_owner, "owners": owners, "price": PRICE, "apps": apps},
            )
            insert = _purchases_insert(columns(cursor, "purchases"))
            values = {"first_buyer": first_buyer, "first_owner": first_owner, "owners": owners}
            # The hot app: buyers first_buyer, first_buyer + 1, ...
            cursor.execute(
                insert.format(app="1", buyer="%(first_buyer)s + n"), {**values, "count": hot}
            )
            # Every other app in turn: purchase n is app 2 + n mod (apps - 1) by buyer
            # n div (apps - 1), so no (buyer, app) pair comes twice.
            cursor.execute(
                insert.format(app="2 + n %% %(others)s", buyer="%(first_buyer)s + n / %(others)s"),
                {**values, "count": rest, "others": apps - 1},
            )
            _finish(cursor)
    finally:
        connection.close()
    return {"buyer_id": first_buyer, "hot_app_id": 1, "buyers": buyers}


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """``size`` made-up words of one to three English-like syllables, in random order."""
    onsets = "b c d f g h j k l m n p r s t v w z bl br ch cl cr dr fl fr gl gr pl pr sc sh sk sl"
    onsets += " sm sn sp st str sw th tr wh"
    nuclei = ["a", "e", "i", "o", "u", "y", "ai", "ea", "ee", "oa", "oo", "ou", "ie"]
    codas = ["", "", "", "n", "r", "s", "t", "l", "m", "ck", "ng", "nd", "st", "x", "ph", "rt"]
    onset_list = ["", *onsets.split()]
    words: set[str] = set()
    while len(words) < size:
        syllables = rng.randint(1, 3)
        words.add(
            "".join(
                rng.choice(onset_list) + rng.choice(nuclei) + rng.choice(codas)
                for _ in range(syllables)
            )
        )
    ordered = sorted(words)
    rng.shuffle(ordered)
    return ordered


def seed_search(url: str, apps: int, words: list[str], rng: random.Random) -> dict:
    """``apps`` verified apps whose titles (1-3 words) and descriptions (15-60 words) are
    drawn from ``words`` with Zipf-like frequencies: the first words are common, most rare.

    Returns:
        ``buyer_id``: a user who may search.
    """
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            _users(cursor, ADMIN_ID, 1, "bench-admin", "admin")
            _users(cursor, ADMIN_ID + 1, 2, "user")
            rows = io.StringIO()
            for n in range(1, apps + 1):
                title = " ".join(
                    w.capitalize()
                    for w in rng.choices(words, cum_weights=weights, k=rng.randint(1, 3))
                )
                description = " ".join(
                    rng.choices(words, cum_weights=weights, k=rng.randint(15, 60))
                )
                rows.write(
                    f"{n}\t{ADMIN_ID + 1}\t{title}\t{description.capitalize()}.\t{PRICE}\t"
                    f"https://bench.test/app\tkey{n}\tt\t2026-01-01T00:00:00Z\t2026-01-01T00:00:00Z\n"
                )
            rows.seek(0)
            cursor.copy_expert(
                "COPY apps (id, owner_id, title, description, price, access_link, access_key,"
                " verified, created_at, updated_at) FROM STDIN",
                rows,
            )
            _finish(cursor)
    finally:
        connection.close()
    return {"buyer_id": ADMIN_ID + 2}
