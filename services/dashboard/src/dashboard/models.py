"""Tables of the Dashboard: the dedupe record, fold progress, the projections, the kept
dead letters and the last-checked head of the Appstore's event log.

Every projection is written only by :mod:`dashboard.fold`. Money columns hold integer
credits. Text from events is stored as ``Text``: the event schemas set no maximum length,
and a value too long for its column would fail every fold of its batch. Timestamps are
:class:`~sqlstore.UTCDateTime`: aware and in UTC on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sqlstore import UTCDateTime, naming_convention

EVENTS_PROGRESS = "events"
SERIES_METRICS = ("purchases", "credits_spent", "apps_created", "users", "credits_granted")
TOTALS = (
    "users",
    "apps_created",
    "apps_verified",
    "purchases",
    "credits_spent",
    "credits_granted",
    "buyers",
)


class Base(DeclarativeBase):
    metadata = naming_convention()


class ProcessedEvent(Base):
    """One row per folded event, inserted in the fold's own transaction: a second delivery
    finds its row and is not folded again."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sequence: Mapped[int | None] = mapped_column(BigInteger, index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    folded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FoldProgress(Base):
    """How far the log is folded: every sequence up to ``contiguous_through`` is in
    ``processed_events``; ``last_sequence`` is the highest folded, ``last_event_at`` the
    latest ``occurred_at``. A gap lies between the two sequences when they differ.

    ``generation`` goes up by one with every committed fold (and with a rebuild's swap): a
    cached answer keyed by it is never staler than the last folded batch, whichever
    process folded it."""

    __tablename__ = "fold_progress"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    contiguous_through: Mapped[int] = mapped_column(BigInteger)
    last_sequence: Mapped[int] = mapped_column(BigInteger)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    generation: Mapped[int] = mapped_column(BigInteger, server_default="0")


class Total(Base):
    """All-time counters, one row per name in :data:`TOTALS`."""

    __tablename__ = "totals"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class KnownUser(Base):
    """Users as registered, to put names to developers."""

    __tablename__ = "known_users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Buyer(Base):
    """Everyone who has bought at least once; a new row is one more distinct buyer.

    ``purchases`` also tells the fold which rows its upsert created: those whose count
    equals what the batch added.
    """

    __tablename__ = "buyers"

    buyer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_purchase_at: Mapped[datetime] = mapped_column(UTCDateTime)
    purchases: Mapped[int] = mapped_column(BigInteger)


class AppStats(Base):
    """One row per app seen in any event, whatever arrived first.

    ``owner_id`` and ``title`` stay NULL until an event that carries them is folded: an
    AppVerified, say, may be folded before its AppCreated. ``title_sequence`` is the
    sequence of the event the title came from, so that an older title folded late does
    not replace a newer one.
    """

    __tablename__ = "app_stats"

    app_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str | None] = mapped_column(Text)
    title_sequence: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified: Mapped[bool] = mapped_column(Boolean)
    deleted: Mapped[bool] = mapped_column(Boolean)
    purchases: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[int] = mapped_column(BigInteger)


# Top-N reads walk these; app_id breaks ties so that pages of equal counts are stable.
Index("ix_app_stats_purchases", AppStats.purchases.desc(), AppStats.app_id)
Index("ix_app_stats_revenue", AppStats.revenue.desc(), AppStats.app_id)
# A developer's apps: their top list and their lookup.
Index("ix_app_stats_owner_id", AppStats.owner_id, AppStats.purchases.desc(), AppStats.app_id)


class DeveloperStats(Base):
    """Per app owner: apps created, purchases of them and credits earned."""

    __tablename__ = "developer_stats"

    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    apps: Mapped[int] = mapped_column(BigInteger)
    purchases: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[int] = mapped_column(BigInteger)


Index("ix_developer_stats_purchases", DeveloperStats.purchases.desc(), DeveloperStats.owner_id)
Index("ix_developer_stats_revenue", DeveloperStats.revenue.desc(), DeveloperStats.owner_id)


class SeriesMinute(Base):
    """Per metric of :data:`SERIES_METRICS`, the sum in each UTC minute (see
    :mod:`dashboard.buckets` for why minutes and quarter-hours)."""

    __tablename__ = "series_minute"

    metric: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class SeriesQuarterHour(Base):
    """Per metric, the sum in each UTC quarter-hour; hour and day series in any zone."""

    __tablename__ = "series_quarter_hour"

    metric: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


# Windowed counts of new buyers (first purchase in the window) walk this.
Index("ix_buyers_first_purchase_at", Buyer.first_purchase_at)


#: The spans of ``app_sales`` buckets: UTC hours for the edges of a window, UTC days inside.
SALES_SPANS = ("hour", "day")


class AppSales(Base):
    """Per app, purchases and revenue in each UTC hour (``span`` "hour") and each UTC day
    (``span`` "day"), for top-N lists in a window: whole days inside it, hours at its edges,
    so that 30 days cost about 30 rows per app, not 720. One table, so that a fold adds both
    spans with one statement. ``bucket_start`` leads the key after the span: window reads take
    a range of buckets across every app, and the fold writes in key order."""

    __tablename__ = "app_sales"

    span: Mapped[str] = mapped_column(String(4), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    app_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Carried by every purchase, so top developers in a window need no join.
    owner_id: Mapped[int] = mapped_column(BigInteger)
    purchases: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[int] = mapped_column(BigInteger)


#: The spans of ``sales_series`` buckets, as :mod:`dashboard.buckets` explains them.
SERIES_SPANS = ("minute", "quarter")
#: Whose sales a ``sales_series`` row counts: one app's, or one developer's (its owner's).
SALES_SCOPES = ("app", "owner")


class SalesSeries(Base):
    """Per app and per developer, purchases and revenue in each UTC minute (``span``
    "minute") and each UTC quarter-hour (``span`` "quarter"): the series and window sums of
    one app or one developer, read exactly as the store-wide ones are read from
    ``series_minute`` and ``series_quarter_hour``. One table, so that a fold adds every row
    of a batch with one statement; the key leads with the scope and its id, so that one
    app's or developer's buckets in a window are one range of the primary key."""

    __tablename__ = "sales_series"

    span: Mapped[str] = mapped_column(String(7), primary_key=True)
    scope: Mapped[str] = mapped_column(String(5), primary_key=True)
    scope_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    purchases: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[int] = mapped_column(BigInteger)


class AppPrice(Base):
    """An app's price history: the price it was created with, then every price an
    ``AppUpdated`` set, each at the moment its event occurred. ``sequence`` orders changes
    made within the same microsecond."""

    __tablename__ = "app_prices"

    app_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)


class DeadLetter(Base):
    """A message the worker gave up on, kept here because RabbitMQ's ``.XQ`` drops dead
    letters after 7 days. One row per ``message_id`` (the ``event_id`` when the body had
    one): a message dead-lettered again bumps ``count`` and ``last_seen``.

    ``body`` is the message body as text, what ``dashboard dlq replay`` publishes again.
    ``routing_key``, ``headers`` (a JSON object as text) and ``content_type`` are the AMQP
    properties it arrived with; NULL for letters kept before they were recorded, and for
    messages that came through no AMQP broker.
    """

    __tablename__ = "dead_letters"

    # SQLite only auto-increments a column declared INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)
    routing_key: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)


class LogHead(Base):
    """The Appstore's event log as last checked: its highest ``sequence`` and when.

    Written by whoever asks the Appstore (the worker's healing process, or the API when that
    has not answered for a while); read by the API to tell how far the Dashboard is behind.
    ``attempted_at`` is when a process last set out to ask, so that several API processes
    do not all ask at once. NULLs: never checked.
    """

    __tablename__ = "log_head"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
