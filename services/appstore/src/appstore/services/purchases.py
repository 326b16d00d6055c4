"""Buying apps with credit, and the purchase records."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appstore import outbox
from appstore.errors import (
    AppstoreError,
    Conflict,
    Forbidden,
    IdempotencyKeyTaken,
    InsufficientCredit,
    NotFound,
    Unauthorized,
)
from appstore.models import App, IdempotencyRecord, Purchase, User, utcnow
from appstore.security.principal import Principal
from appstore.services import purchase_statement
from appstore.settlement import settle
from sqlstore import Database, dialect_insert

#: The outcome an idempotency record keeps for a purchase that went through.
PURCHASED = "purchased"
_REPLAYABLE = {e.outcome: e for e in (Forbidden, NotFound, Conflict, InsufficientCredit)}


def purchase(
    db: Database, buyer: Principal, app_id: int, idempotency_key: str | None = None
) -> Purchase | purchase_statement.Bought:
    """Buy an app: debit the buyer, record the purchase (the owner's pending earnings) and
    its event atomically.

    With an ``idempotency_key`` the first answer (success or refusal) is kept and every
    retry with the same key gets that answer again.

    Parameters:
        db: the Appstore database.
        buyer: who buys.
        app_id: the app bought.
        idempotency_key: the client's name for this purchase, if it may retry it.

    Returns:
        The purchase, with the app's access link and key (as a plain record when the
        single-statement way made it).

    Raises:
        NotFound: the app is unknown, unverified or delisted.
        Forbidden: the buyer owns the app.
        Conflict: the buyer already owns a copy.
        InsufficientCredit: the buyer's credit is below the price.
        Conflict: the key was used before for another app.
    """
    if idempotency_key is None and not db.is_sqlite:
        with db.driver_statements() as statements:
            bought = purchase_statement.purchase(statements, buyer, app_id)
        if bought is not None:
            return bought
    try:
        with db.transaction() as session:
            return _purchase(session, buyer, app_id, idempotency_key)
    except IdempotencyKeyTaken:
        # Another request with this key committed first: answer as it did.
        with db.reading() as session:
            return _replay(session, buyer, app_id, idempotency_key)
    except tuple(_REPLAYABLE.values()) as error:
        if idempotency_key is not None:
            _remember_refusal(db, buyer, app_id, idempotency_key, error)
        raise


_APP_FOR_SALE = select(
    App.owner_id, App.price, App.verified, App.deleted_at, App.access_link, App.access_key
).where(App.id == bindparam("app_id"))
_DEBIT = (
    update(User)
    .where(User.id == bindparam("user_id"), User.settled_credit >= bindparam("price"))
    .values({User.settled_credit: User.settled_credit - bindparam("price")})
    .returning(User.id)
)


def _purchase(session: Session, buyer: Principal, app_id: int, key: str | None) -> Purchase:
    """One purchase in the caller's transaction; the order of statements is deliberate.

    No row is locked up front, and the owner's row not at all: the owner's earnings are the
    purchase row itself, pending until the settler pays them (see appstore.settlement), so
    purchases of one popular developer's apps never queue on that developer's balance. The
    (buyer, app) unique key stops a second copy, the conditional debit of the buyer's row,
    the only row lock, stops overspending, and the idempotency key's primary key makes a
    concurrent retry wait for the first answer.
    """
    # Core statements on the session's connection: this is the hottest path of the store,
    # and the ORM's bookkeeping would cost more than the statements themselves.
    connection = session.connection()
    # A known key replays its first answer before anything else is checked: the app may
    # have been delisted since, and the retry must still get the purchase it made.
    if key is not None and session.get(IdempotencyRecord, (buyer.user_id, key)) is not None:
        raise IdempotencyKeyTaken
    app = connection.execute(_APP_FOR_SALE, {"app_id": app_id}).one_or_none()
    if app is None or not app.verified or app.deleted_at is not None:
        raise NotFound(f"App {app_id} does not exist.")
    if app.owner_id == buyer.user_id:
        raise Forbidden("You cannot buy your own app.")
    if key is not None:
        _insert(
            connection,
            IdempotencyRecord,
            on_unique=IdempotencyKeyTaken,
            buyer_id=buyer.user_id,
            key=key,
            app_id=app_id,
            outcome=PURCHASED,
        )

    created_at = utcnow()
    purchase_id = _insert(
        connection,
        Purchase,
        on_unique=Conflict(f"You already own app {app_id}."),
        app_id=app_id,
        buyer_id=buyer.user_id,
        owner_id=app.owner_id,
        price=app.price,
        created_at=created_at,
    )
    if app.price:
        _debit(connection, buyer.user_id, app_id, app.price)
    outbox.record(
        connection,
        "AppPurchased",
        {
            "purchase_id": purchase_id,
            "app_id": app_id,
            "buyer_id": buyer.user_id,
            "owner_id": app.owner_id,
            "price": app.price,
            "purchased_at": created_at,
        },
    )
    bought = Purchase(
        id=purchase_id,
        app_id=app_id,
        buyer_id=buyer.user_id,
        price=app.price,
        created_at=created_at,
    )
    bought.access_link, bought.access_key = app.access_link, app.access_key
    return bought


def _debit(connection: Connection, buyer_id: int, app_id: int, price: int) -> None:
    """Take ``price`` from the buyer's settled credit, paying in the buyer's own pending
    earnings first if the settled credit alone is short.

    Raises:
        InsufficientCredit: the buyer's whole balance, pending earnings included, is short.
    """
    values = {"user_id": buyer_id, "price": price}
    if connection.execute(_DEBIT, values).first() is not None:
        return
    # A developer spending what their apps just earned: settle it now rather than refuse
    # a purchase that the balance they are shown covers. The debit is tried again even if
    # nothing was left to settle here: a concurrent purchase by the same buyer, or the
    # settler, may have just settled it (this waited for them).
    settle(connection, owner_id=buyer_id)
    if connection.execute(_DEBIT, values).first() is not None:
        return
    balance = connection.scalar(select(User.credit).where(User.id == buyer_id))
    raise InsufficientCredit(f"App {app_id} costs {price} credits; your balance is {balance}.")


def _insert(connection: Connection, model, on_unique, **values) -> int | None:
    """Insert one row; a unique-key clash raises ``on_unique``, a missing buyer Unauthorized."""
    try:
        return connection.execute(_inserting(model), values).scalar()
    except IntegrityError as error:
        text = str(error.orig).lower()
        if "foreign key" in text:
            raise Unauthorized("The token's user no longer exists.") from error
        if "unique" in text or "duplicate key" in text:
            raise on_unique from error
        raise


@functools.cache
def _inserting(model):
    # One statement per table, built once (see appstore.outbox for why).
    return insert(model).returning(*model.__table__.primary_key.columns)


def _replay(session: Session, buyer: Principal, app_id: int, key: str) -> Purchase:
    record = session.get(IdempotencyRecord, (buyer.user_id, key))
    if record.app_id != app_id:
        raise Conflict(f"Idempotency-Key {key!r} was already used for app {record.app_id}.")
    if record.outcome != PURCHASED:
        raise _REPLAYABLE[record.outcome](record.message)
    bought = session.scalar(
        select(Purchase).where(Purchase.buyer_id == buyer.user_id, Purchase.app_id == app_id)
    )
    return _with_access(session, bought)


def _remember_refusal(
    db: Database, buyer: Principal, app_id: int, key: str, error: AppstoreError
) -> None:
    """Keep a refusal for replay; a concurrent first answer with the same key wins."""
    with db.transaction() as session:
        session.execute(
            dialect_insert(session, IdempotencyRecord.__table__)
            .values(
                buyer_id=buyer.user_id,
                key=key,
                app_id=app_id,
                outcome=error.outcome,
                message=error.message,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )


def get_purchase(db: Database, principal: Principal, purchase_id: int) -> Purchase:
    with db.reading() as session:
        bought = session.get(Purchase, purchase_id)
        if bought is None or not (principal.reads_all or bought.buyer_id == principal.user_id):
            raise NotFound(f"Purchase {purchase_id} does not exist.")
        return _with_access(session, bought) if _may_see_access(principal, bought) else bought


def list_purchases(
    db: Database,
    principal: Principal,
    *,
    app_id: int | None,
    buyer_id: int | None,
    since: datetime | None,
    until: datetime | None,
    page: int,
    page_size: int,
) -> tuple[list[Purchase], int]:
    """Purchases, newest first; plain users see only their own."""
    if not principal.reads_all:
        if buyer_id not in (None, principal.user_id):
            raise Forbidden("You may only list your own purchases.")
        buyer_id = principal.user_id
    query = select(Purchase)
    if app_id is not None:
        query = query.where(Purchase.app_id == app_id)
    if buyer_id is not None:
        query = query.where(Purchase.buyer_id == buyer_id)
    if since is not None:
        query = query.where(Purchase.created_at >= since)
    if until is not None:
        query = query.where(Purchase.created_at < until)
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        if (page - 1) * page_size >= total:  # past the end; a huge page never reaches SQL
            return [], total
        rows = session.execute(
            query.add_columns(App.access_link, App.access_key)
            .join(App, App.id == Purchase.app_id)
            .order_by(Purchase.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
    purchases = []
    for bought, link, key in rows:
        if _may_see_access(principal, bought):
            bought.access_link, bought.access_key = link, key
        purchases.append(bought)
    return purchases, total


def _may_see_access(principal: Principal, bought: Purchase) -> bool:
    # Readers of all records (management, service) see that a purchase happened, not its secret.
    return principal.is_admin or bought.buyer_id == principal.user_id


def _with_access(session: Session, bought: Purchase) -> Purchase:
    link, key = session.execute(
        select(App.access_link, App.access_key).where(App.id == bought.app_id)
    ).one()
    bought.access_link, bought.access_key = link, key
    return bought
