"""Gap healing inside ``dashboard worker``: a sync at start-up, then one every interval.

A purged queue, or a dashboard started after the Appstore, leaves events that will never
arrive through RabbitMQ. This process pulls them from the Appstore's event log with the same
fold and dedupe as the worker (:func:`dashboard.sync.sync`), so the dashboard catches up by
itself. It runs as one Dramatiq fork process next to the workers, so several worker
processes do not all poll the Appstore.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from dashboard.appstore_client import AppstoreClient
from dashboard.config import Settings
from dashboard.errors import AppstoreUnavailable
from dashboard.sync import sync
from sqlstore import Database

log = logging.getLogger("dashboard.healing")


def heal_gaps() -> None:
    """Sync now and then every interval, until the worker stops this process.

    Run by Dramatiq as a fork process (``--fork-function``), and only when
    ``DASHBOARD_SYNC_INTERVAL_SECONDS`` is above 0. Without a service account
    (``DASHBOARD_SERVICE_USERNAME``/``_PASSWORD``) there is nothing to sync with: it says so
    once and idles, since a fork process that exits would stop the whole worker.
    """
    settings = Settings.from_env()
    interval = settings.sync_interval_seconds
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
        except (AppstoreUnavailable, SQLAlchemyError) as error:
            log.warning("gap healing failed, trying again in %.0f s: %s", interval, error)
        time.sleep(interval)


def _idle() -> None:
    while True:
        time.sleep(3600)
