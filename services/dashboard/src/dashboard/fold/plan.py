"""What a batch of events changes, worked out in memory before any row is touched.

:func:`plan` sums the batch into one delta per projection row, so that applying it costs
one statement per table however many events the batch holds. It is pure: no database, no
clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from appstore_events import EVENT_TYPES, Envelope
from dashboard.buckets import minute_start, quarter_hour_start
from dashboard.errors import UnfoldableEvent


@dataclass
class AppDelta:
    """The change to one ``app_stats`` row. ``None`` and ``False`` mean "not known here"."""

    owner_id: int | None = None
    title: str | None = None
    title_sequence: int | None = None
    created_at: datetime | None = None
    verified: bool = False
    deleted: bool = False
    purchases: int = 0
    revenue: int = 0

    def offer_title(self, title: str, sequence: int) -> None:
        """Keep ``title`` if it is at least as recent as the one already planned."""
        if self.title_sequence is None or sequence >= self.title_sequence:
            self.title, self.title_sequence = title, sequence


@dataclass
class DeveloperDelta:
    """What to add to one ``developer_stats`` row."""

    apps: int = 0
    purchases: int = 0
    revenue: int = 0


@dataclass
class BuyerDelta:
    """A buyer's purchases in the batch and the earliest of them."""

    first_purchase_at: datetime
    purchases: int = 0


@dataclass
class SalesDelta:
    """What to add to one ``app_sales`` row."""

    owner_id: int
    purchases: int = 0
    revenue: int = 0


@dataclass
class SeriesSale:
    """What to add to one ``sales_series`` row."""

    purchases: int = 0
    revenue: int = 0


@dataclass(frozen=True)
class PriceChange:
    """An ``app_prices`` row: the price an app had from ``changed_at`` on."""

    changed_at: datetime
    sequence: int | None
    price: int


@dataclass(frozen=True)
class RegisteredUser:
    """A ``known_users`` row."""

    username: str
    role: str
    registered_at: datetime


@dataclass
class Deltas:
    """Everything one batch changes, keyed by the primary key of each row.

    Whether a buyer is new, and so whether ``totals["buyers"]`` grows, only the database
    can tell: ``totals`` here never holds ``"buyers"``.
    """

    totals: Counter[str] = field(default_factory=Counter)
    known_users: dict[int, RegisteredUser] = field(default_factory=dict)
    buyers: dict[int, BuyerDelta] = field(default_factory=dict)
    apps: dict[int, AppDelta] = field(default_factory=dict)
    developers: dict[int, DeveloperDelta] = field(default_factory=dict)
    series_minute: Counter[tuple[str, datetime]] = field(default_factory=Counter)
    series_quarter_hour: Counter[tuple[str, datetime]] = field(default_factory=Counter)
    # Keyed (span, bucket_start, app_id), the table's key order.
    app_sales: dict[tuple[str, datetime, int], SalesDelta] = field(default_factory=dict)
    # Keyed (span, scope, scope_id, bucket_start), the table's key order.
    sales_series: dict[tuple[str, str, int, datetime], SeriesSale] = field(default_factory=dict)
    # Keyed (app_id, event_id).
    app_prices: dict[tuple[int, str], PriceChange] = field(default_factory=dict)
    # The buckets of each UTC minute seen: (quarter-hour, hour, day) starts. A batch's
    # events fall in few minutes, so each is worked out once, not for every event.
    _minute_buckets: dict[datetime, tuple[datetime, datetime, datetime]] = field(
        default_factory=dict, repr=False, compare=False
    )

    # Rows are looked up before one is made: most events of a batch hit a row it already
    # holds, and setdefault would build a throwaway delta for each.

    def app(self, app_id: int) -> AppDelta:
        app = self.apps.get(app_id)
        if app is None:
            app = self.apps[app_id] = AppDelta()
        return app

    def developer(self, owner_id: int) -> DeveloperDelta:
        developer = self.developers.get(owner_id)
        if developer is None:
            developer = self.developers[owner_id] = DeveloperDelta()
        return developer

    def count(self, metric: str, moment: datetime, amount: int = 1) -> None:
        """Add ``amount`` to a series metric in the buckets holding ``moment``."""
        self.count_all(minute_start(moment), ((metric, amount),))

    def buckets_of(self, minute: datetime) -> tuple[datetime, datetime, datetime]:
        """The starts of the UTC quarter-hour, hour and day holding the UTC minute starting
        at ``minute`` (a :func:`~dashboard.buckets.minute_start`)."""
        buckets = self._minute_buckets.get(minute)
        if buckets is None:
            hour = minute.replace(minute=0)
            buckets = (quarter_hour_start(minute), hour, hour.replace(hour=0))
            self._minute_buckets[minute] = buckets
        return buckets

    def count_all(self, minute: datetime, amounts: Iterable[tuple[str, int]]) -> None:
        """Add each ``(metric, amount)`` in the buckets of the UTC minute starting at
        ``minute`` (a :func:`~dashboard.buckets.minute_start`), so one event finds it once."""
        quarter_hour = self.buckets_of(minute)[0]
        for metric, amount in amounts:
            if amount:
                self.series_minute[metric, minute] += amount
                self.series_quarter_hour[metric, quarter_hour] += amount

    def count_sales(
        self, app_id: int, owner_id: int, purchases: int, revenue: int, moment: datetime
    ) -> None:
        """Add ``purchases`` purchases of ``app_id`` bringing ``revenue`` to the app's UTC
        hour and UTC day holding ``moment`` (a :func:`~dashboard.buckets.minute_start`), and
        to the app's and its developer's minute and quarter-hour."""
        quarter, hour, day = self.buckets_of(moment)
        for key in (("hour", hour, app_id), ("day", day, app_id)):
            sale = self.app_sales.get(key)
            if sale is None:
                sale = self.app_sales[key] = SalesDelta(owner_id)
            sale.purchases += purchases
            sale.revenue += revenue
        # The same purchases in their app's and their developer's minute and quarter-hour.
        series = self.sales_series
        for key in (
            ("minute", "app", app_id, moment),
            ("minute", "owner", owner_id, moment),
            ("quarter", "app", app_id, quarter),
            ("quarter", "owner", owner_id, quarter),
        ):
            row = series.get(key)
            if row is None:
                row = series[key] = SeriesSale()
            row.purchases += purchases
            row.revenue += revenue

    def price_change(self, app_id: int, envelope: Envelope, at: datetime, price: int) -> None:
        """Record that ``app_id`` costs ``price`` from ``at`` on, as ``envelope`` says."""
        self.app_prices[app_id, envelope.event_id] = PriceChange(at, envelope.sequence, price)


def unique_events(envelopes: Iterable[Envelope]) -> list[Envelope]:
    """Return the envelopes with repeated ``event_id`` dropped, first one kept, order kept."""
    seen: set[str] = set()
    unique = []
    for envelope in envelopes:
        if envelope.event_id not in seen:
            seen.add(envelope.event_id)
            unique.append(envelope)
    return unique


def check_foldable(envelopes: Iterable[Envelope]) -> None:
    """Raise :class:`UnfoldableEvent` for the first envelope :func:`plan` cannot fold."""
    for envelope in envelopes:
        spec = EVENT_TYPES.get(envelope.event_type)
        if envelope.event_type not in _FOLDABLE or spec is None:
            raise UnfoldableEvent(f"event {envelope.event_id}: no fold for {envelope.event_type!r}")
        if envelope.event_version != spec.version:
            raise UnfoldableEvent(
                f"event {envelope.event_id}: {envelope.event_type} version "
                f"{envelope.event_version} is not the known version {spec.version}"
            )


def plan(envelopes: Sequence[Envelope]) -> Deltas:
    """Sum a batch of events into per-row deltas.

    Parameters:
        envelopes: decoded events in any order; a repeated ``event_id`` counts once.

    Returns:
        The deltas of every projection the events touch.

    Raises:
        UnfoldableEvent: an envelope has a type or version with no fold.
    """
    check_foldable(envelopes)
    return plan_checked(unique_events(envelopes))


def plan_checked(envelopes: Iterable[Envelope]) -> Deltas:
    """:func:`plan` for envelopes already checked by :func:`check_foldable` and made unique
    by :func:`unique_events`, as the fold has them."""
    deltas = Deltas()
    # Purchases, most of a batch, are summed per app and minute first: every row they touch
    # but the buyer's is a sum over those, so each is then worked out once per app and
    # minute, not once per purchase.
    sales: dict[tuple[int, int, datetime], list[int]] = {}
    buyers = deltas.buyers
    folders = _FOLDERS
    for envelope in envelopes:
        if envelope.event_type != _PURCHASED:
            folders[envelope.event_type](deltas, envelope)
            continue
        data = envelope.data
        price, purchased_at, buyer_id = data["price"], data["purchased_at"], data["buyer_id"]
        buyer = buyers.get(buyer_id)
        if buyer is None:
            buyers[buyer_id] = BuyerDelta(purchased_at, 1)
        else:
            buyer.purchases += 1
            if purchased_at < buyer.first_purchase_at:
                buyer.first_purchase_at = purchased_at
        key = (data["app_id"], data["owner_id"], minute_start(purchased_at))
        sale = sales.get(key)
        if sale is None:
            sales[key] = [1, price]
        else:
            sale[0] += 1
            sale[1] += price
    _add_sales(deltas, sales)
    return deltas


def _add_sales(deltas: Deltas, sales: dict[tuple[int, int, datetime], list[int]]) -> None:
    """Add purchases summed per ``(app_id, owner_id, minute)`` to every row but the buyers'."""
    for (app_id, owner_id, minute), (purchases, revenue) in sales.items():
        deltas.totals["purchases"] += purchases
        deltas.totals["credits_spent"] += revenue
        app = deltas.app(app_id)
        app.owner_id = owner_id
        app.purchases += purchases
        app.revenue += revenue
        developer = deltas.developer(owner_id)
        developer.purchases += purchases
        developer.revenue += revenue
        deltas.count_all(minute, (("purchases", purchases), ("credits_spent", revenue)))
        deltas.count_sales(app_id, owner_id, purchases, revenue, minute)


def _title_sequence(envelope: Envelope) -> int:
    # An event without a sequence ranks below every sequenced one: it may fill an empty
    # title but never replaces one whose place in the log is known.
    return envelope.sequence if envelope.sequence is not None else 0


def _user_registered(deltas: Deltas, envelope: Envelope) -> None:
    data = envelope.data
    deltas.totals["users"] += 1
    deltas.known_users.setdefault(
        data["user_id"], RegisteredUser(data["username"], data["role"], data["registered_at"])
    )
    deltas.count("users", data["registered_at"])


def _credit_granted(deltas: Deltas, envelope: Envelope) -> None:
    amount = envelope.data["amount"]
    deltas.totals["credits_granted"] += amount
    deltas.count("credits_granted", envelope.data["granted_at"], amount)


def _app_created(deltas: Deltas, envelope: Envelope) -> None:
    data = envelope.data
    deltas.totals["apps_created"] += 1
    app = deltas.app(data["app_id"])
    app.owner_id = data["owner_id"]
    app.created_at = data["created_at"]
    app.offer_title(data["title"], _title_sequence(envelope))
    deltas.developer(data["owner_id"]).apps += 1
    deltas.count("apps_created", data["created_at"])
    deltas.price_change(data["app_id"], envelope, data["created_at"], data["price"])


def _app_updated(deltas: Deltas, envelope: Envelope) -> None:
    changes = envelope.data["changes"]
    app_id = envelope.data["app_id"]
    if "title" in changes:
        deltas.app(app_id).offer_title(changes["title"], _title_sequence(envelope))
    # The payload has no time of its own: the change took effect when the event occurred.
    if "price" in changes:
        deltas.price_change(app_id, envelope, envelope.occurred_at, changes["price"])


def _app_verified(deltas: Deltas, envelope: Envelope) -> None:
    # The Appstore records AppVerified only when an app turns verified, so once per app.
    deltas.totals["apps_verified"] += 1
    deltas.app(envelope.data["app_id"]).verified = True


def _app_deleted(deltas: Deltas, envelope: Envelope) -> None:
    deltas.app(envelope.data["app_id"]).deleted = True


_FOLDERS: dict[str, Callable[[Deltas, Envelope], None]] = {
    "UserRegistered": _user_registered,
    "CreditGranted": _credit_granted,
    "AppCreated": _app_created,
    "AppUpdated": _app_updated,
    "AppVerified": _app_verified,
    "AppDeleted": _app_deleted,
}
#: Folded by :func:`plan_checked` itself, summed per app and minute.
_PURCHASED = "AppPurchased"
_FOLDABLE = frozenset({*_FOLDERS, _PURCHASED})
