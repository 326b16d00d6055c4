"""Alembic's entry: runs migrations against the URL ``appstore db upgrade`` passes in."""

from alembic import context

from appstore.models import Base
from sqlstore.migrations import run_online

LOCK_KEY = 0x0A55_0001  # names "Appstore migrations" among advisory locks

run_online(context, Base.metadata, LOCK_KEY)
