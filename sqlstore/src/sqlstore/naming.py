"""Constraint names that come out the same on PostgreSQL and SQLite."""

from sqlalchemy import MetaData


def naming_convention() -> MetaData:
    """A MetaData whose constraints have explicit names, so Alembic can find them again."""
    return MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
