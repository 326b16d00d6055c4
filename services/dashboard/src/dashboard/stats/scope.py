"""Whose figures an answer is about: the whole store, one app, or one developer.

A :class:`Scope` narrows the summary's windows, the series and the CSV to one app's or one
developer's sales, read from ``sales_series`` (minutes and quarter-hours per app and per
developer), and the top apps to one developer's apps. Only sales have figures per app and
developer: ``purchases`` and ``credits_spent`` (an app's revenue, or what a developer
earned).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from dashboard.errors import UnknownScope
from dashboard.models import AppStats, DeveloperStats, SalesSeries
from dashboard.stats.reading import Reader

#: The metrics a scope has, and the ``sales_series`` column each is read from.
SCOPED_METRICS = {"purchases": SalesSeries.purchases, "credits_spent": SalesSeries.revenue}
#: What the query string calls each kind of scope.
PARAMETERS = {"app": "app_id", "owner": "owner_id"}
_NOUNS = {"app": "app", "owner": "developer"}


@dataclass(frozen=True, slots=True)
class Scope:
    """One app (``kind`` "app") or one developer (``kind`` "owner"), by id."""

    kind: str
    id: int

    @property
    def parameter(self) -> str:
        """The query-string argument that names it: ``app_id`` or ``owner_id``."""
        return PARAMETERS[self.kind]

    def key(self) -> dict[str, int]:
        """What a cached answer about this scope is keyed by."""
        return {self.parameter: self.id}


def check_known(reader: Reader, scope: Scope | None) -> None:
    """One primary-key read: raise :class:`UnknownScope` for an app or developer the
    dashboard has folded no event of (an app: any event naming it; a developer: an app
    created or sold)."""
    if scope is None:
        return
    table = AppStats if scope.kind == "app" else DeveloperStats
    key = table.app_id if scope.kind == "app" else table.owner_id
    with reader.connect() as connection:
        found = connection.scalar(select(key).where(key == scope.id))
    if found is None:
        raise UnknownScope(
            f"No {_NOUNS[scope.kind]} with id {scope.id} is known to the dashboard: "
            f"no event about it has been folded."
        )
