"""Alembic's entry: runs migrations against the URL ``dashboard db upgrade`` passes in."""

from alembic import context

from dashboard.models import Base
from sqlstore.migrations import run_online

LOCK_KEY = 0x0DA5_0001  # names "Dashboard migrations" among advisory locks

run_online(context, Base.metadata, LOCK_KEY)
