"""Buying apps with credit, and the purchase records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appstore.db import Database
from appstore.errors import (
    AppstoreError,
    Conflict,
    Forbidden,
    InsufficientCredit,
    InvalidRequest,
    NotFound,
    Unauthorized,
)
from appstore.models import App, IdempotencyRecord, Purchase, User
from appstore.security.principal import Principal

_REPLAYABLE = {e.status_code: e for e in (Forbidden, NotFound, Conflict, InsufficientCredit)}


class _Replayed(Exception):
    """Marks an error that repeats a stored answer, so it is not stored again."""


def purchase(
    db: Database, buyer: Principal, app_id: int, idempotency_key: str | None = None
) -> Purchase:
    """Buy an app: debit the buyer, credit the owner and record the purchase atomically.

    With an ``idempotency_key`` the first answer (success or refusal) is kept and every
    retry with the same key gets that answer again.

    Raises:
        NotFound: the app is unknown, unverified or delisted.
        Forbidden: the buyer owns the app.
        Conflict: the buyer already owns a copy.
        InsufficientCredit: the buyer's credit is below the price.
        InvalidRequest: the key was used before for another app.
    """
    try:
        with db.transaction() as session:
            return _purchase(session, buyer, app_id, idempotency_key)
    except _Replayed as replay:
        raise replay.args[0] from None
    except IntegrityError as error:  # the unique (buyer, app) pair caught a race
        raise Conflict(f"You already own app {app_id}.") from error
    except tuple(_REPLAYABLE.values()) as error:
        if idempotency_key is not None:
            _remember_refusal(db, buyer, app_id, idempotency_key, error)
        raise


def _purchase(session: Session, buyer: Principal, app_id: int, key: str | None) -> Purchase:
    app = session.execute(
        select(
            App.owner_id, App.price, App.verified, App.deleted_at, App.access_link, App.access_key
        ).where(App.id == app_id)
    ).one_or_none()
    if app is None or not app.verified or app.deleted_at is not None:
        raise NotFound(f"App {app_id} does not exist.")
    if app.owner_id == buyer.user_id:
        raise Forbidden("You cannot buy your own app.")

    # Both balances are locked in id order, so two users buying each other's apps at the
    # same moment queue instead of deadlocking. The buyer's lock also serialises all of
    # one buyer's purchases, which makes the checks below race-free.
    balances = dict(
        session.execute(
            select(User.id, User.credit)
            .where(User.id.in_((buyer.user_id, app.owner_id)))
            .order_by(User.id)
            .with_for_update()
        ).all()
    )
    if buyer.user_id not in balances:
        raise Unauthorized("The token's user no longer exists.")
    if key is not None:
        replay = _replay(session, buyer, app_id, key)
        if replay is not None:
            return replay
    owned = session.scalar(
        select(Purchase.id).where(Purchase.buyer_id == buyer.user_id, Purchase.app_id == app_id)
    )
    if owned is not None:
        raise Conflict(f"You already own app {app_id}.")
    if balances[buyer.user_id] < app.price:
        raise InsufficientCredit(
            f"App {app_id} costs {app.price} credits; your balance is {balances[buyer.user_id]}."
        )

    if app.price:
        session.execute(
            update(User)
            .where(User.id.in_((buyer.user_id, app.owner_id)))
            .values(
                credit=User.credit + case((User.id == buyer.user_id, -app.price), else_=app.price)
            )
        )
    bought = Purchase(app_id=app_id, buyer_id=buyer.user_id, price=app.price)
    session.add(bought)
    session.flush()
    if key is not None:
        session.add(
            IdempotencyRecord(
                buyer_id=buyer.user_id,
                key=key,
                app_id=app_id,
                status_code=201,
                purchase_id=bought.id,
            )
        )
    bought.access_link, bought.access_key = app.access_link, app.access_key
    return bought


def _replay(session: Session, buyer: Principal, app_id: int, key: str) -> Purchase | None:
    record = session.get(IdempotencyRecord, (buyer.user_id, key))
    if record is None:
        return None
    if record.app_id != app_id:
        raise _Replayed(
            InvalidRequest(f"Idempotency-Key {key!r} was already used for app {record.app_id}.")
        )
    if record.purchase_id is None:
        raise _Replayed(_REPLAYABLE[record.status_code](record.message))
    return _with_access(session, session.get(Purchase, record.purchase_id))


def _remember_refusal(
    db: Database, buyer: Principal, app_id: int, key: str, error: AppstoreError
) -> None:
    """Keep a refusal for replay; a concurrent first answer with the same key wins."""
    insert = pg_insert if not db.is_sqlite else sqlite_insert
    with db.transaction() as session:
        session.execute(
            insert(IdempotencyRecord)
            .values(
                buyer_id=buyer.user_id,
                key=key,
                app_id=app_id,
                status_code=error.status_code,
                message=error.message,
            )
            .on_conflict_do_nothing()
        )


def get_purchase(db: Database, principal: Principal, purchase_id: int) -> Purchase:
    with db.transaction() as session:
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
    with db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
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
