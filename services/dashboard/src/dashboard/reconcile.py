"""``dashboard reconcile``: the projections compared with the Appstore's own figures."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from dashboard.appstore_client import AppstoreClient
from dashboard.models import AppStats, Total
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
    """Every total and every app's owner, title, purchases and revenue that differ.

    An app the Appstore has and the dashboard never heard of counts as drift, and so does
    one the dashboard has and the Appstore does not.
    """
    with db.reading() as session:
        totals = dict(session.execute(select(Total.name, Total.value)).all())
        apps = {
            row.app_id: row
            for row in session.execute(
                select(AppStats.app_id, *(getattr(AppStats, f) for f in APP_FIELDS))
            )
        }
    drifts = [
        Drift(f"totals.{name}", totals.get(name), value)
        for name, value in client.totals().items()
        if totals.get(name) != value
    ]
    for figures in client.app_figures():
        mine = apps.pop(figures["app_id"], None)
        for field in APP_FIELDS:
            ours = getattr(mine, field) if mine is not None else None
            if ours != figures[field]:
                drifts.append(Drift(f"app {figures['app_id']}.{field}", ours, figures[field]))
    drifts.extend(Drift(f"app {app_id}", "present", "absent") for app_id in sorted(apps))
    return drifts
