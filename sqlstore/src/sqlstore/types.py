"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A ``TIMESTAMP WITH TIME ZONE`` column whose values are aware UTC datetimes both ways.

    PostgreSQL keeps the instant; SQLite keeps the text of the wall-clock time without its
    zone. So values are written in UTC, which SQLite's rows then hold, and read back with
    UTC attached on SQLite, and converted to UTC on PostgreSQL (which answers in the
    session's time zone). A naive value is refused rather than guessed at: the zone it was
    meant in is unknown, and PostgreSQL would read it in the session's zone, SQLite as UTC.
    The DDL is that of ``DateTime(timezone=True)``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        # Runs for every value of a bulk insert: the common case returns first.
        if value is None or value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give it a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
