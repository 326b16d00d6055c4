"""Engines, transactions, migrations and SQL helpers shared by the Appstore and the Dashboard."""

from sqlstore.database import Database, Executor, make_engine, normalize_database_url
from sqlstore.driver import DriverStatements
from sqlstore.inserts import dialect_insert, dialect_name, insert_for, insert_rows
from sqlstore.naming import naming_convention
from sqlstore.types import UTCDateTime

__all__ = [
    "Database",
    "DriverStatements",
    "Executor",
    "UTCDateTime",
    "dialect_insert",
    "dialect_name",
    "insert_for",
    "insert_rows",
    "make_engine",
    "naming_convention",
    "normalize_database_url",
]
