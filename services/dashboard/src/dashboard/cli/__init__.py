"""The ``dashboard`` command line: options and output; :mod:`dashboard.launch` does the rest."""

from __future__ import annotations

import json

import click

from dashboard import launch
from dashboard.cli.dlq import dlq
from dashboard.cli.projections import rebuild_command, reconcile_command, sync_command
from dashboard.cli.queues import queues
from dashboard.cli.reporting import reported, setting_default
from dashboard.config import Settings, mask_url_password


@click.group()
@click.version_option(package_name="dashboard", prog_name="dashboard")
def main() -> None:
    """Operate the appstore-events management dashboard."""


@main.command("config")
@reported
def show_config() -> None:
    """Print the effective settings as JSON, with passwords masked."""
    click.echo(json.dumps(Settings.from_env().masked(), indent=2))


@main.group()
def db() -> None:
    """The Dashboard database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@reported
def db_upgrade(revision: str) -> None:
    """Create or migrate the tables to REVISION."""
    settings = Settings.from_env()
    launch.upgrade_database(settings, revision)
    click.echo(f"database at {mask_url_password(settings.database_url)} is at {revision}")


@main.command("worker")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--threads",
    default=setting_default("worker_threads"),
    show_default="DASHBOARD_WORKER_THREADS or 4",
    type=click.IntRange(min=1),
    help="Worker threads per process. They only decode events and hand them to the "
    "process's batcher, which folds them on a thread of its own, so a few suffice.",
)
@reported
def worker(processes: int, threads: int) -> None:
    """Consume dashboard.events and fold the events, in batches, exactly once in effect.

    With BROKER_URL unset (the embedded default) there is no RabbitMQ: one process follows
    the Appstore's event log into Dramatiq's in-process broker instead.

    Runs Dramatiq's worker on ``dashboard.worker.app``. The database must have been
    migrated (``dashboard db upgrade``); this checks before starting. Metrics are served
    on DASHBOARD_WORKER_METRICS_PORT (default 9103, 0 = off), summed over all processes.
    With a service account configured, one more process syncs from the Appstore's event
    log at start-up and every DASHBOARD_SYNC_INTERVAL_SECONDS (default 60, 0 = off).
    """
    settings = Settings.from_env()
    code = launch.run_worker(settings, processes, threads, say=click.echo)
    if code:
        raise SystemExit(code)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=setting_default("serve_workers"),
    show_default="DASHBOARD_WORKERS or 2",
    type=click.IntRange(1, 64),
    help="gunicorn worker processes.",
)
@click.option(
    "--threads",
    default=setting_default("serve_threads"),
    show_default="DASHBOARD_THREADS or 32",
    type=click.IntRange(1, 1000),
    help="Threads per worker process. Every open event stream (/api/v1/stream) holds one, "
    "so a worker serves up to THREADS streams and requests at once.",
)
@reported
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the stats API, its event stream and the page with gunicorn (gthread workers)."""
    settings = Settings.from_env()
    launch.serve_api(settings, host, port, workers, threads)


for command in (sync_command, reconcile_command, rebuild_command, dlq, queues):
    main.add_command(command)
