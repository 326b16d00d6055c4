"""``dashboard reconcile``: the projections compared with the Appstore's own figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from dashboard.appstore_client import AppstoreClient
from dashboard.models import SERIES_SPANS, AppStats, SalesSeries, SeriesQuarterHour, Total
from sqlstore import Database

APP_FIELDS = ("owner_id", "title", "purchases", "revenue")


@dataclass(frozen=True)
class Drift:
    """One figure on which the dashboard and the Appstore disagree."""

    what: str
    dashboard: object
    appstore: object

    def __str__(self) -> str:
        return f"{self.what}: dashboard {self.dashboard!r}, appstore {self.appstore!r}"


def reconcile(db: Database, client: AppstoreClient) -> list[Drift]:
    """Every total and every app's owner, title, purchases and revenue that differ, and
    every series whose buckets do not add up to the Appstore's figures.

    An app the Appstore has and the dashboard never heard of counts as drift, and so does
    one the dashboard has and the Appstore does not. The series checked: the credits
    granted per quarter-hour against the Appstore's total, and each app's and developer's
    minutes and quarter-hours (``sales_series``) against its purchases and revenue.
    """
    with db.reading() as session:
        totals = dict(session.execute(select(Total.name, Total.value)).all())
        apps = {
            row.app_id: row
            for row in session.execute(
                select(AppStats.app_id, *(getattr(AppStats, f) for f in APP_FIELDS))
            )
        }
        granted = session.scalar(
            select(func.coalesce(func.sum(SeriesQuarterHour.value), 0)).where(
                SeriesQuarterHour.metric == "credits_granted"
            )
        )
        series = _series_sums(session)
    appstore_totals = client.totals()
    drifts = [
        Drift(f"totals.{name}", totals.get(name), value)
        for name, value in appstore_totals.items()
        if totals.get(name) != value
    ]
    if "credits_granted" in appstore_totals and granted != appstore_totals["credits_granted"]:
        drifts.append(
            Drift("series credits_granted", int(granted), appstore_totals["credits_granted"])
        )
    owners: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for figures in client.app_figures():
        mine = apps.pop(figures["app_id"], None)
        for field in APP_FIELDS:
            ours = getattr(mine, field) if mine is not None else None
            if ours != figures[field]:
                drifts.append(Drift(f"app {figures['app_id']}.{field}", ours, figures[field]))
        sales = (figures["purchases"], figures["revenue"])
        bought, earned = owners[figures["owner_id"]]
        owners[figures["owner_id"]] = (bought + sales[0], earned + sales[1])
        drifts += _series_drift(series, "app", figures["app_id"], sales)
    drifts.extend(Drift(f"app {app_id}", "present", "absent") for app_id in sorted(apps))
    for owner_id, sales in sorted(owners.items()):
        drifts += _series_drift(series, "owner", owner_id, sales)
    drifts.extend(
        Drift(f"series {span} {scope} {scope_id}", sales, "no sales")
        for (span, scope, scope_id), sales in sorted(series.items())
        if sales != (0, 0)
    )
    return drifts


def _series_sums(session) -> dict[tuple[str, str, int], tuple[int, int]]:
    """``{(span, scope, id): (purchases, revenue)}``: every bucket of ``sales_series`` added up."""
    rows = session.execute(
        select(
            SalesSeries.span,
            SalesSeries.scope,
            SalesSeries.scope_id,
            func.sum(SalesSeries.purchases),
            func.sum(SalesSeries.revenue),
        ).group_by(SalesSeries.span, SalesSeries.scope, SalesSeries.scope_id)
    )
    return {
        (span, scope, key): (int(bought), int(earned)) for span, scope, key, bought, earned in rows
    }


def _series_drift(
    series: dict[tuple[str, str, int], tuple[int, int]],
    scope: str,
    scope_id: int,
    sales: tuple[int, int],
) -> list[Drift]:
    """Where the buckets of one app or developer do not add up to ``sales``; the sums
    checked are taken out of ``series``, so that what is left there has no sales at all."""
    drifts = []
    for span in SERIES_SPANS:
        ours = series.pop((span, scope, scope_id), (0, 0))
        if ours != sales:
            drifts.append(Drift(f"series {span} {scope} {scope_id}", ours, sales))
    return drifts
