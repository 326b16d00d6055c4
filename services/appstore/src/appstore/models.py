"""Tables of the Appstore. Money columns hold integer credits; timestamps are
:class:`~sqlstore.UTCDateTime`, aware and in UTC on PostgreSQL and SQLite alike."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from sqlstore import UTCDateTime, naming_convention

ROLES = ("user", "admin", "management", "service")


# Set only by clock_at: the demo data is made through the service code at past moments.
_clock: ContextVar[datetime | None] = ContextVar("appstore_clock", default=None)


def utcnow() -> datetime:
    """Now, in UTC: the time every row and event of the Appstore is stamped with."""
    return _clock.get() or datetime.now(UTC)


@contextlib.contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Stamp what is written inside the block, in this thread, with ``moment``."""
    token = _clock.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _clock.reset(token)


class Base(DeclarativeBase):
    metadata = naming_convention()


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("credit >= 0", name="credit_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="user")
    # The settled balance: grants and spending land here at once, earnings when the settler
    # folds them in (see appstore.settlement). Read ``credit``, which adds what is pending.
    settled_credit: Mapped[int] = mapped_column("credit", BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Usernames clash case-insensitively: "Alice" and "alice" would confuse every reader.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class Purchase(Base):
    """A purchase, and the ledger entry of the owner's earnings from it.

    The buyer is debited in the purchase's transaction; the owner is paid later, when the
    settler adds ``price`` to the owner's settled balance and stamps ``settled_at`` in one
    transaction (see appstore.settlement). Until then the entry is pending, and every
    reader of a balance adds it: credit is conserved in every snapshot.
    """

    __tablename__ = "purchases"
    __table_args__ = (
        UniqueConstraint("buyer_id", "app_id"),
        # Only the pending entries: the settler's queue, and the pending part of a balance
        # (by owner) or of a purchase count (by owner and app). It stays as small as the
        # settler's backlog however many purchases the store holds.
        Index(
            "ix_purchases_unsettled",
            "owner_id",
            "app_id",
            postgresql_where=text("settled_at IS NULL"),
            sqlite_where=text("settled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The app's owner at the time of the purchase: who earns ``price``.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # Copied from the app into the purchase answer; the buyer has bought the right to see them.
    access_link = None
    access_key = None


class App(Base):
    __tablename__ = "apps"
    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    price: Mapped[int] = mapped_column(Integer)
    access_link: Mapped[str] = mapped_column(String(2048))
    icon_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    access_key: Mapped[str] = mapped_column(String(64))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Settled purchases, counted by the settler off the purchase's path: a counter bumped
    # by each purchase would put a hot row lock on every purchase of a popular app.
    settled_purchases: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    # What readers see: the settled count plus the pending purchases, found in the small
    # partial index, so the count is exact and costs no more as the store grows.
    purchases_count: Mapped[int] = column_property(
        settled_purchases
        + select(func.count())
        .where(
            Purchase.owner_id == owner_id,
            Purchase.app_id == id,
            Purchase.settled_at.is_(None),
        )
        .correlate_except(Purchase)
        .scalar_subquery(),
        deferred=True,
    )

    # Set per request by the services: whether the caller may see access_link/access_key.
    can_access = False

    @property
    def is_listed(self) -> bool:
        return self.verified and self.deleted_at is None


class CatalogueWord(Base):
    """A word some app's title or description held (letters a-z and digits), on PostgreSQL.

    Filled and kept by triggers on ``apps`` (migration 0006), never emptied: a word no app
    holds any more only costs the search a look that finds nothing. The catalogue's search
    looks up the words containing a search of letters and digits here, then the apps holding
    them in the GIN index of ``catalogue_words(title, description)``. Empty on SQLite.
    """

    __tablename__ = "catalogue_vocabulary"
    # Trigrams of the words: the search's LIKE '%…%' over them (PostgreSQL only).
    __table_args__ = (
        Index(
            "ix_catalogue_vocabulary_trgm", text("word gin_trgm_ops"), postgresql_using="gin"
        ).ddl_if(dialect="postgresql"),
    )

    word: Mapped[str] = mapped_column(Text, primary_key=True)


# A balance as every reader sees it: settled credit plus the earnings still pending, in one
# statement and so one snapshot, in which a purchase and a settlement each move credit
# atomically. Set here because it needs Purchase.
User.credit = column_property(
    User.settled_credit
    + select(func.coalesce(func.sum(Purchase.price), 0))
    .where(Purchase.owner_id == User.id, Purchase.settled_at.is_(None))
    .correlate_except(Purchase)
    .scalar_subquery()
)


class CreditGrant(Base):
    """The ledger of credit added by admins: who got how much, from whom, and why."""

    __tablename__ = "credit_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEvent(Base):
    """An event committed with the change it records, waiting for (or past) the relay.

    ``id`` orders inserts; ``sequence`` is the event's position in the log, given by the
    relay to committed rows only (see ``appstore.outbox``), so it is gap-free and no reader
    can pass a number that a slower transaction fills in later.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unsequenced",
            "id",
            postgresql_where=text("sequence IS NULL"),
            sqlite_where=text("sequence IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    routing_key: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The encoded envelope without its "sequence"; the relay and the log API add it.
    envelope: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)


class OutboxProgress(Base):
    """How far the relay has published: every sequence up to ``published_through`` is on
    the broker. One number, not a flag per row, because the relay publishes in order."""

    __tablename__ = "outbox_progress"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    published_through: Mapped[int] = mapped_column(BigInteger, default=0)


class IdempotencyRecord(Base):
    """The first answer to a purchase sent with an ``Idempotency-Key``, replayed on retries.

    ``outcome`` is ``"purchased"`` or the refusal's outcome (``"conflict"``...). A success is
    found again by (buyer_id, app_id); a refusal keeps its outcome and message.
    """

    __tablename__ = "idempotency_records"

    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    app_id: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The catalogue's search is lower(title/description) LIKE '%…%'. On PostgreSQL a trigram
# index (pg_trgm, GIN) on each of those expressions finds the matching rows without reading
# every app; SQLite has no such index and scans, which is fine at an embedded store's size.
for _column in (App.title, App.description):
    Index(
        f"ix_apps_{_column.key}_trgm",
        func.lower(_column).label(f"lower_{_column.key}"),
        postgresql_using="gin",
        postgresql_ops={f"lower_{_column.key}": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")
del _column

# A search of letters and digits finds its apps by their words (migration 0006, which also
# creates the function and the triggers that keep the vocabulary): PostgreSQL only.
Index(
    "ix_apps_catalogue_words",
    func.catalogue_words(App.title, App.description).label("catalogue_words"),
    postgresql_using="gin",
).ddl_if(dialect="postgresql")
