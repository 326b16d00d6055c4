"""A purchase on PostgreSQL in two round trips: read the app, then write it all in one statement.

The transactional path (``appstore.services.purchases._purchase``) takes BEGIN, four
statements and COMMIT, each a round trip and each paid for in the API's CPU. Here the app
is read together with the purchase's id (taken from its sequence, so the event can be
built before anything is written), then one statement debits the buyer, inserts the
purchase (the owner's pending earnings) and inserts its event: data-modifying CTEs, each
step fed by the one before, so the purchase and event exist only if the debit happened. A
single statement in autocommit is its own transaction: all of it commits, or none.

When the statement writes nothing (the buyer's settled credit is short, or the buyer is
gone), the caller falls back to the transactional path, which tells the refusals apart and
can pay a developer's own pending earnings in first. Purchases with an ``Idempotency-Key``
always take that path: their key's row must be claimed before the purchase's.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from appstore import outbox
from appstore.errors import Conflict, Forbidden, NotFound
from appstore.models import App, Purchase, utcnow
from appstore.security.principal import Principal
from sqlstore import UTCDateTime

_APP_AND_ID = select(
    App.owner_id,
    App.price,
    App.verified,
    App.deleted_at,
    App.access_link,
    App.access_key,
    func.nextval("purchases_id_seq"),
).where(App.id == bindparam("app_id"))

_EVENT = """
INSERT INTO outbox (event_id, event_type, routing_key, occurred_at, envelope)
SELECT :event_id, :event_type, :routing_key, :occurred_at, :envelope FROM bought
RETURNING id
"""
_TYPES = (bindparam("created_at", type_=UTCDateTime), bindparam("occurred_at", type_=UTCDateTime))
_PAID = text(
    """
WITH debit AS (
    UPDATE users SET credit = credit - :price WHERE id = :buyer_id AND credit >= :price
    RETURNING id
), bought AS (
    INSERT INTO purchases (id, app_id, buyer_id, owner_id, price, created_at)
    SELECT :purchase_id, :app_id, debit.id, :owner_id, :price, :created_at FROM debit
    RETURNING id
)"""
    + _EVENT
).bindparams(*_TYPES)
_FREE = text(
    """
WITH bought AS (
    INSERT INTO purchases (id, app_id, buyer_id, owner_id, price, created_at)
    VALUES (:purchase_id, :app_id, :buyer_id, :owner_id, :price, :created_at)
    RETURNING id
)"""
    + _EVENT
).bindparams(*_TYPES)


def purchase(connection: Connection, buyer: Principal, app_id: int) -> Purchase | None:
    """Buy in one statement on an autocommit connection.

    Returns:
        The purchase, or None when nothing was written (the caller decides why).

    Raises:
        NotFound: the app is unknown, unverified or delisted.
        Forbidden: the buyer owns the app.
        Conflict: the buyer already owns a copy.
    """
    app = connection.execute(_APP_AND_ID, {"app_id": app_id}).one_or_none()
    if app is None or not app.verified or app.deleted_at is not None:
        raise NotFound(f"App {app_id} does not exist.")
    owner_id, price, purchase_id = app.owner_id, app.price, app[-1]
    if owner_id == buyer.user_id:
        raise Forbidden("You cannot buy your own app.")
    created_at = utcnow()
    values = {
        "purchase_id": purchase_id,
        "app_id": app_id,
        "buyer_id": buyer.user_id,
        "owner_id": owner_id,
        "price": price,
        "created_at": created_at,
    }
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
    try:
        written = connection.execute(_PAID if price else _FREE, {**values, **event}).first()
    except IntegrityError as error:
        if getattr(error.orig.diag, "constraint_name", None) == "uq_purchases_buyer_id":
            raise Conflict(f"You already own app {app_id}.") from error
        if price == 0 and "foreign key" in str(error.orig).lower():
            return None  # the buyer is gone: the transactional path says so
        raise
    if written is None:
        return None
    bought = Purchase(
        id=purchase_id, app_id=app_id, buyer_id=buyer.user_id, price=price, created_at=created_at
    )
    bought.access_link, bought.access_key = app.access_link, app.access_key
    return bought
