"""Engines, transactions and migrations shared by the Appstore and the Dashboard."""

from sqlstore.database import Database, Executor, make_engine, normalize_database_url
from sqlstore.naming import naming_convention

__all__ = ["Database", "Executor", "make_engine", "naming_convention", "normalize_database_url"]
