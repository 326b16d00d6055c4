"""Gap healing inside ``dashboard worker``: a sync at start-up, then one every interval.

A purged queue, or a dashboard started after the Appstore, leaves events that will never
arrive through RabbitMQ. This process pulls them from the Appstore's event log with the same
fold and dedupe as the worker (:func:`dashboard.sync.sync`), so the dashboard catches up by
itself. It runs as one Dramatiq fork process next to the workers, so several worker
processes do not all poll the Appstore.
"""

from __future__ import annotations

import logging
import os
import time

from sqlalchemy.exc import SQLAlchemyError

from dashboard.appstore_client import AppstoreClient, AppstoreError
from dashboard.config import Settings
from dashboard.sync import sync
from sqlstore import Database

INTERVAL_VARIABLE = "DASHBOARD_SYNC_INTERVAL_SECONDS"
DEFAULT_INTERVAL = 60.0

log = logging.getLogger("dashboard.healing")


def sync_interval(environ=os.environ) -> float:
    """Seconds between syncs from ``DASHBOARD_SYNC_INTERVAL_SECONDS``; 0 turns healing off."""
    raw = environ.get(INTERVAL_VARIABLE, "").strip()
    interval = float(raw) if raw else DEFAULT_INTERVAL
    if interval < 0:
        raise ValueError(f"{INTERVAL_VARIABLE} must be 0 or more, got {raw!r}")
    return interval


def heal_gaps() -> None:
    """Sync now and then every interval, until the worker stops this process.

    Run by Dramatiq as a fork process (``--fork-function``). Without a service account
    (``DASHBOARD_SERVICE_USERNAME``/``_PASSWORD``) there is nothing to sync with: it says so
    once and idles, since a fork process that exits would stop the whole worker.
    """
    settings = Settings.from_env()
    interval = sync_interval()
    if not (settings.service_username and settings.service_password):
        log.warning("no service account configured: gaps are healed only by `dashboard sync`")
        _idle()
    database = Database(settings.database_url, pool_size=1)
    client = AppstoreClient(
        settings.appstore_url, settings.service_username, settings.service_password
    )
    while True:
        try:
            result = sync(database, client)
            if result.folded:
                log.info("healed %d events missing from the queue", result.folded)
        except (AppstoreError, SQLAlchemyError) as error:
            log.warning("gap healing failed, trying again in %.0f s: %s", interval, error)
        time.sleep(interval)


def _idle() -> None:
    while True:
        time.sleep(3600)
