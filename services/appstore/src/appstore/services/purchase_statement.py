"""A purchase on PostgreSQL in two round trips: read the app, then write it all in one statement.

The transactional path (``appstore.services.purchases._purchase``) takes BEGIN, four
statements and COMMIT, each a round trip and each paid for in the API's CPU. Here the app
is read together with the purchase's id (taken from its sequence, so the event can be
built before anything is written), then one statement debits the buyer, inserts the
purchase (the owner's pending earnings) and inserts its event: data-modifying CTEs, each
step fed by the one before, so the purchase and event exist only if the debit happened. A
single statement in autocommit is its own transaction: all of it commits, or none. Both
statements go straight to the driver (see ``sqlstore.driver``).

When the statement writes nothing (the buyer's settled credit is short, or the buyer is
gone), the caller falls back to the transactional path, which tells the refusals apart and
can pay a developer's own pending earnings in first. Purchases with an ``Idempotency-Key``
always take that path: their key's row must be claimed before the purchase's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from appstore import outbox
from appstore.errors import Conflict, Forbidden, NotFound
from appstore.models import utcnow
from appstore.security.principal import Principal
from sqlstore import DriverStatements

# The driver's own SQL (see sqlstore.driver): these run on every purchase, and SQLAlchemy's
# work per statement cost more than the driver's. Columns as in appstore.models.
_APP_AND_ID = """
SELECT owner_id, price, verified, deleted_at, access_link, access_key,
       nextval('purchases_id_seq')
FROM apps WHERE id = %(app_id)s
"""
_EVENT = """
INSERT INTO outbox (event_id, event_type, routing_key, occurred_at, envelope)
SELECT %(event_id)s, %(event_type)s, %(routing_key)s, %(occurred_at)s, %(envelope)s FROM bought
RETURNING id
"""
_PAID = (
    """
WITH debit AS (
    UPDATE users SET credit = credit - %(price)s WHERE id = %(buyer_id)s AND credit >= %(price)s
    RETURNING id
), bought AS (
    INSERT INTO purchases (id, app_id, buyer_id, owner_id, price, created_at)
    SELECT %(purchase_id)s, %(app_id)s, debit.id, %(owner_id)s, %(price)s, %(created_at)s
    FROM debit
    RETURNING id
)"""
    + _EVENT
)
_FREE = (
    """
WITH bought AS (
    INSERT INTO purchases (id, app_id, buyer_id, owner_id, price, created_at)
    VALUES (%(purchase_id)s, %(app_id)s, %(buyer_id)s, %(owner_id)s, %(price)s, %(created_at)s)
    RETURNING id
)"""
    + _EVENT
)


@dataclass(frozen=True, slots=True)
class Bought:
    """A purchase just made, with the app's access: what the buyer is answered. A plain
    record, not a ``Purchase`` row object, which would cost more to build than to answer."""

    id: int
    app_id: int
    buyer_id: int
    price: int
    created_at: datetime
    access_link: str
    access_key: str


def purchase(statements: DriverStatements, buyer: Principal, app_id: int) -> Bought | None:
    """Buy in one statement, in autocommit.

    Returns:
        The purchase, or None when nothing was written (the caller decides why).

    Raises:
        NotFound: the app is unknown, unverified or delisted.
        Forbidden: the buyer owns the app.
        Conflict: the buyer already owns a copy.
    """
    app = statements.first(_APP_AND_ID, {"app_id": app_id})
    if app is None:
        raise NotFound(f"App {app_id} does not exist.")
    owner_id, price, verified, deleted_at, access_link, access_key, purchase_id = app
    if not verified or deleted_at is not None:
        raise NotFound(f"App {app_id} does not exist.")
    if owner_id == buyer.user_id:
        raise Forbidden("You cannot buy your own app.")
    # The driver takes aware datetimes as they are: utcnow() is in UTC, as the columns'
    # UTCDateTime would have made it.
    created_at = utcnow()
    event = outbox.new_row(
        "AppPurchased",
        {
            "purchase_id": purchase_id,
            "app_id": app_id,
            "buyer_id": buyer.user_id,
            "owner_id": owner_id,
            "price": price,
            "purchased_at": created_at,
        },
        occurred_at=created_at,
    )
    event.update(
        purchase_id=purchase_id,
        app_id=app_id,
        buyer_id=buyer.user_id,
        owner_id=owner_id,
        price=price,
        created_at=created_at,
    )
    try:
        written = statements.first(_PAID if price else _FREE, event)
    except IntegrityError as error:
        if getattr(error.orig.diag, "constraint_name", None) == "uq_purchases_buyer_id":
            raise Conflict(f"You already own app {app_id}.") from error
        if price == 0 and "foreign key" in str(error.orig).lower():
            return None  # the buyer is gone: the transactional path says so
        raise
    if written is None:
        return None
    return Bought(purchase_id, app_id, buyer.user_id, price, created_at, access_link, access_key)
