"""The figures of an event history, worked out naively in plain Python from the events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from appstore_events import Envelope


@dataclasses.dataclass(frozen=True)
class Purchase:
    at: datetime
    app_id: int
    buyer_id: int
    owner_id: int
    price: int


class EventTruth:
    """The figures of a list of events, worked out naively from the events themselves."""

    def __init__(self, events: list[Envelope]) -> None:
        self.events = events
        self.purchases = [
            Purchase(
                e.data["purchased_at"],
                e.data["app_id"],
                e.data["buyer_id"],
                e.data["owner_id"],
                e.data["price"],
            )
            for e in events
            if e.event_type == "AppPurchased"
        ]
        self.registered = {
            e.data["user_id"]: (e.data["username"], e.data["registered_at"])
            for e in events
            if e.event_type == "UserRegistered"
        }
        self.apps = {
            e.data["app_id"]: (e.data["owner_id"], e.data["title"], e.data["created_at"])
            for e in events
            if e.event_type == "AppCreated"
        }
        self.granted = [
            (e.data["granted_at"], e.data["amount"])
            for e in events
            if e.event_type == "CreditGranted"
        ]
        self.grants = [amount for _at, amount in self.granted]
        self.verified = [e for e in events if e.event_type == "AppVerified"]

    def moments(
        self, metric: str, scope: tuple[str, int] | None = None
    ) -> list[tuple[datetime, int]]:
        """Each event of ``metric`` as (when, how much); with ``scope`` (``("app", id)`` or
        ``("owner", id)``) only the purchases of that app or developer."""
        purchases = self._scoped(scope)
        if metric == "purchases":
            return [(p.at, 1) for p in purchases]
        if metric == "credits_spent":
            return [(p.at, p.price) for p in purchases]
        if scope is not None:
            raise ValueError(f"{metric} has no figures per app or developer")
        if metric == "credits_granted":
            return list(self.granted)
        if metric == "users":
            return [(at, 1) for _name, at in self.registered.values()]
        if metric == "apps_created":
            return [(at, 1) for _owner, _title, at in self.apps.values()]
        raise ValueError(metric)

    def totals(self) -> dict[str, int]:
        return {
            "users": len(self.registered),
            "apps_created": len(self.apps),
            "apps_verified": len(self.verified),
            "purchases": len(self.purchases),
            "credits_spent": sum(p.price for p in self.purchases),
            "credits_granted": sum(self.grants),
            "buyers": len({p.buyer_id for p in self.purchases}),
        }

    def app_sales(self) -> dict[int, tuple[int, int]]:
        """``{app_id: (purchases, revenue)}`` of every app created, bought or not."""
        sales = dict.fromkeys(self.apps, (0, 0))
        for p in self.purchases:
            bought, revenue = sales.get(p.app_id, (0, 0))
            sales[p.app_id] = (bought + 1, revenue + p.price)
        return sales

    def _scoped(self, scope: tuple[str, int] | None) -> list[Purchase]:
        if scope is None:
            return self.purchases
        kind, key = scope
        if kind == "app":
            return [p for p in self.purchases if p.app_id == key]
        return [p for p in self.purchases if p.owner_id == key]

    def scoped_counts(self, scope: tuple[str, int], start=None, end=None) -> dict[str, int]:
        """One app's or developer's ``purchases`` and ``credits_spent``, in ``[start, end)``
        or all-time."""
        inside = [p for p in self._scoped(scope) if start is None or start <= p.at < end]
        return {"purchases": len(inside), "credits_spent": sum(p.price for p in inside)}

    def prices(self, app_id: int) -> list[tuple[datetime, int]]:
        """An app's price as created, then each price an AppUpdated set, in log order."""
        history = []
        for e in sorted(self.events, key=lambda e: e.sequence or 0):
            if e.data.get("app_id") != app_id:
                continue
            if e.event_type == "AppCreated":
                history.append((e.data["created_at"], e.data["price"]))
            elif e.event_type == "AppUpdated" and "price" in e.data["changes"]:
                history.append((e.occurred_at, e.data["changes"]["price"]))
        return sorted(history, key=lambda change: change[0])

    def rank(self, key, wanted: int, by: str) -> int | None:
        """The all-time place of ``wanted`` among the keys ``key(purchase)`` ranked ``by``."""
        ranked = [k for k, _ in self._ranked(key, by, None, None)]
        return ranked.index(wanted) + 1 if wanted in ranked else None

    def counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """The window's counts, ``start <= t < end``."""
        inside = {
            metric: sum(v for at, v in self.moments(metric) if start <= at < end)
            for metric in ("users", "apps_created", "purchases", "credits_spent", "credits_granted")
        }
        first_purchase: dict[int, datetime] = {}
        for p in self.purchases:
            first_purchase[p.buyer_id] = min(p.at, first_purchase.get(p.buyer_id, p.at))
        inside["new_buyers"] = sum(1 for at in first_purchase.values() if start <= at < end)
        return inside

    def series(
        self,
        metric: str,
        bucket: str,
        zone: ZoneInfo,
        start: datetime,
        end: datetime,
        scope: tuple[str, int] | None = None,
    ) -> list[dict]:
        """Zero-filled points of the buckets overlapping ``[start, end)``, found minute by
        minute with the wall clock of ``zone``; of one app or developer with ``scope``."""
        starts: list[datetime] = []
        moment = start.replace(second=0, microsecond=0)
        while moment < end:
            key = _bucket_of(bucket, zone, moment)
            if not starts or starts[-1] != key:
                starts.append(key)
            moment += timedelta(minutes=1)
        sums = dict.fromkeys(starts, 0)
        for at, value in self.moments(metric, scope):
            key = _bucket_of(bucket, zone, at)
            if key in sums:
                sums[key] += value
        return [{"t": z(t), "value": v} for t, v in sums.items()]

    def top_apps(self, by: str, limit: int, start=None, end=None, owner_id=None) -> list[dict]:
        ranked = self._ranked(lambda p: p.app_id, by, start, end)
        if owner_id is not None:
            ranked = [row for row in ranked if self.apps[row[0]][0] == owner_id]
        return [
            {
                "app_id": app_id,
                "title": self.apps[app_id][1],
                "owner_id": self.apps[app_id][0],
                "purchases": purchases,
                "revenue": revenue,
            }
            for app_id, (purchases, revenue) in ranked[:limit]
        ]

    def top_developers(self, by: str, limit: int, start=None, end=None) -> list[dict]:
        ranked = self._ranked(lambda p: p.owner_id, by, start, end)
        apps = {
            owner: sum(1 for o, _t, _c in self.apps.values() if o == owner) for owner, _ in ranked
        }
        return [
            {
                "owner_id": owner,
                "username": self.registered.get(owner, (None,))[0],
                "apps": apps[owner],
                "purchases": purchases,
                "revenue": revenue,
            }
            for owner, (purchases, revenue) in ranked[:limit]
        ]

    def _ranked(self, key, by: str, start, end) -> list[tuple[int, list[int]]]:
        """``(key, [purchases, revenue])`` of the purchases in the window, grouped by
        ``key(purchase)`` and ranked ``by`` either figure, ties by key."""
        rows: dict[int, list[int]] = {}
        for p in self._between(start, end):
            row = rows.setdefault(key(p), [0, 0])
            row[0] += 1
            row[1] += p.price
        figure = 0 if by == "purchases" else 1
        return sorted(rows.items(), key=lambda kv: (-kv[1][figure], kv[0]))

    def _between(self, start, end) -> list[Purchase]:
        if start is None:
            return self.purchases
        return [p for p in self.purchases if start <= p.at < end]


def _bucket_of(bucket: str, zone: ZoneInfo, moment: datetime) -> datetime:
    if bucket == "minute":
        return moment.replace(second=0, microsecond=0)
    local = moment.astimezone(zone)
    if bucket == "hour":
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # replace() keeps ``fold``: the second 02:00 of an autumn night stays the second one.
    return local.astimezone(UTC)


def z(moment: datetime) -> str:
    """How the API writes a moment: ISO-8601, UTC, ``Z``."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
