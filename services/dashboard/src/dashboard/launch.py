"""Starting the Dashboard's processes: the checks before a start, then the start itself.

The ``dashboard`` command line parses options and calls in here; what goes wrong is
raised as :class:`LaunchError` (or :class:`Misuse`, for settings that do not fit the
command), which the command line reports without a traceback.

Nothing here imports ``prometheus_client`` at module level: the worker chooses its
multiprocess mode, at import time, only after :func:`run_worker` has set
``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.config import EMBEDDED_BROKER_URL, Settings, mask_url_password

if TYPE_CHECKING:
    from dashboard.appstore_client import AppstoreClient

#: RabbitMQ's reply when a queue is declared with arguments other than it has.
PRECONDITION_FAILED = 406
#: The tables the worker writes outside the projections: dedupe, progress, dead letters.
WORKER_TABLES = frozenset({"processed_events", "fold_progress", "dead_letters"})


class LaunchError(Exception):
    """A process cannot start, or a command cannot run: the message says why."""


class Misuse(LaunchError):
    """The settings or options do not fit the command (reported as a usage error)."""


def upgrade_database(settings: Settings, revision: str) -> None:
    """Create or migrate the Dashboard's tables to ``revision``."""
    from sqlalchemy.engine import make_url

    from dashboard.migrations import upgrade

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        # The embedded default lives under ./.data/, which a fresh checkout does not have.
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)


def appstore_client(settings: Settings) -> AppstoreClient:
    """A client of the Appstore signed in as the configured service account.

    Raises:
        Misuse: no service account is configured.
    """
    from dashboard.appstore_client import AppstoreClient

    if not (settings.service_username and settings.service_password):
        raise Misuse(
            "set DASHBOARD_SERVICE_USERNAME and DASHBOARD_SERVICE_PASSWORD (a service account)"
        )
    return AppstoreClient(
        settings.appstore_url, settings.service_username, settings.service_password
    )


def rabbitmq_url(settings: Settings) -> str:
    """``BROKER_URL``, for the commands that need RabbitMQ.

    Raises:
        LaunchError: the broker is not RabbitMQ.
    """
    from dashboard.rabbitmq import node_urls

    try:
        node_urls(settings.broker_url)
    except ValueError:
        raise LaunchError(
            "BROKER_URL must be a RabbitMQ URL (amqp://...), or several joined by ';', for "
            f"this command, not {mask_url_password(settings.broker_url)!r}"
        ) from None
    return settings.broker_url


def declare_topology(broker_url: str) -> None:
    """Declare the worker's queues and bindings on RabbitMQ.

    Raises:
        LaunchError: RabbitMQ cannot be reached.
    """
    import pika

    from dashboard.rabbitmq import connect
    from dashboard.worker.topology import declare

    try:
        connection = connect(broker_url)
    except pika.exceptions.AMQPError as exc:
        raise LaunchError(
            f"cannot reach RabbitMQ at {mask_url_password(broker_url)}: {exc!r}"
        ) from exc
    try:
        declare(connection.channel())
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code != PRECONDITION_FAILED:
            raise
        raise LaunchError(
            f"the worker's queues exist with other arguments ({exc.reply_text}); a classic "
            "queue of an older install? Stop every worker and run `dashboard queues migrate`"
        ) from exc
    finally:
        if connection.is_open:
            connection.close()


def require_tables(database_url: str, *, everything: bool = False) -> None:
    """Refuse to start on a database that is not migrated.

    Parameters:
        database_url: the Dashboard's database.
        everything: the API reads every table; the worker needs only :data:`WORKER_TABLES`.

    Raises:
        LaunchError: the database cannot be reached, or lacks a table.
    """
    from sqlalchemy import inspect

    from dashboard.models import Base
    from sqlstore import Database

    database = Database(database_url, pool_size=1)
    try:
        present = set(inspect(database.engine).get_table_names())
    except Exception as exc:
        raise LaunchError(f"cannot reach the dashboard database: {exc}") from exc
    finally:
        database.dispose()
    needed = set(WORKER_TABLES)
    if everything:
        needed = {table.name for table in Base.metadata.sorted_tables}
    missing = needed - present
    if missing:
        raise LaunchError(
            f"the dashboard database lacks {', '.join(sorted(missing))}: "
            "run `dashboard db upgrade` first"
        )


def run_worker(
    settings: Settings, processes: int, threads: int, *, say: Callable[[str], None] = print
) -> int:
    """Run ``dashboard worker`` until it is stopped; return its exit status.

    On RabbitMQ this runs Dramatiq's worker on ``dashboard.worker.app`` with ``processes``
    processes, plus a fork process serving the metrics of all of them (unless
    ``DASHBOARD_WORKER_METRICS_PORT`` is 0) and one healing gaps from the event log
    (unless ``DASHBOARD_SYNC_INTERVAL_SECONDS`` is 0). On the embedded default it follows
    the Appstore's event log in this process (:func:`run_embedded_worker`).

    Parameters:
        say: where a line for the operator goes.

    Raises:
        LaunchError: the database is not migrated, or RabbitMQ cannot be reached.
        Misuse: the embedded worker lacks a service account, or was given processes.
    """
    require_tables(settings.database_url)
    if settings.broker_url == EMBEDDED_BROKER_URL:
        run_embedded_worker(settings, processes, threads, say=say)
        return 0
    declare_topology(rabbitmq_url(settings))
    # Set before prometheus_client is imported anywhere (importing dashboard.worker's
    # metrics does it): its multiprocess mode, which sums all worker processes, is chosen
    # at import time.
    metrics_dir = tempfile.mkdtemp(prefix="dashboard-worker-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        from servicekit import logs

        # Configured here and inherited by every forked process, instead of Dramatiq's
        # text format: each process writes its own JSON lines to stdout.
        logs.configure("dashboard-worker")
        return _run_dramatiq(dramatiq_arguments(settings, processes, threads))
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def dramatiq_arguments(settings: Settings, processes: int, threads: int) -> list[str]:
    """The command line of Dramatiq's worker for these settings."""
    arguments = ["dashboard.worker.app", "--skip-logging", "--processes", str(processes)]
    arguments += ["--threads", str(threads)]
    if settings.worker_metrics_port:
        arguments += ["--fork-function", "dashboard.worker.metrics:serve_metrics"]
    if settings.sync_interval_seconds > 0:
        arguments += ["--fork-function", "dashboard.worker.healing:heal_gaps"]
    return arguments


def _run_dramatiq(arguments: list[str]) -> int:
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    return dramatiq_main(make_argument_parser().parse_args(arguments)) or 0


def run_embedded_worker(
    settings: Settings, processes: int, threads: int, *, say: Callable[[str], None] = print
) -> None:
    """The worker without RabbitMQ: one process, following the Appstore's event log.

    Raises:
        Misuse: no service account is configured, or more than one process was asked for.
    """
    if not (settings.service_username and settings.service_password):
        raise Misuse(
            "without RabbitMQ the worker reads the Appstore's event log: set "
            "DASHBOARD_SERVICE_USERNAME and DASHBOARD_SERVICE_PASSWORD (a service account)"
        )
    if processes > 1:
        raise Misuse("--processes needs RabbitMQ (BROKER_URL=amqp://...)")
    from prometheus_client import start_http_server

    from dashboard.worker import embedded
    from dashboard.worker.metrics import metrics_registry
    from servicekit import logs

    logs.configure("dashboard-worker")
    if settings.worker_metrics_port:
        from sqlstore import Database

        database = Database(settings.database_url, pool_size=1)
        start_http_server(
            settings.worker_metrics_port, addr="127.0.0.1", registry=metrics_registry(database)
        )
    say(f"folding the event log of {settings.appstore_url} (in-process broker)")
    embedded.run(settings, threads, embedded.stop_on_signals())


def serve_api(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the stats API, its event stream and the page with gunicorn (gthread workers).

    Raises:
        LaunchError: the database is not migrated.
    """
    from servicekit import logs
    from servicekit.server import serve

    require_tables(settings.database_url, everything=True)
    logs.configure("dashboard-api")
    serve(
        "dashboard.app:create_app",
        service="dashboard-api",
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        # A stream holds its connection for as long as the page is open.
        worker_connections=max(1000, threads),
    )
