"""The ``dashboard`` command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from dashboard.config import EMBEDDED_BROKER_URL, ConfigError, Settings, mask_url_password


@click.group()
@click.version_option(package_name="dashboard", prog_name="dashboard")
def main() -> None:
    """Operate the appstore-events management dashboard."""


@main.command("config")
def show_config() -> None:
    """Print the effective settings as JSON, with passwords masked."""
    click.echo(json.dumps(_settings().masked(), indent=2))


@main.group()
def db() -> None:
    """The Dashboard database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the tables to REVISION."""
    from sqlalchemy.engine import make_url

    from dashboard.migrations import upgrade

    settings = _settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        # The embedded default lives under ./.data/, which a fresh checkout does not have.
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)
    click.echo(f"database at {mask_url_password(settings.database_url)} is at {revision}")


def _appstore_client(settings: Settings):
    from dashboard.appstore_client import AppstoreClient

    if not (settings.service_username and settings.service_password):
        raise click.UsageError(
            "set DASHBOARD_SERVICE_USERNAME and DASHBOARD_SERVICE_PASSWORD (a service account)"
        )
    return AppstoreClient(
        settings.appstore_url, settings.service_username, settings.service_password
    )


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("sync")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(1, 1000))
def sync_command(page_size: int) -> None:
    """Pull the events missing here from the Appstore's log and fold them."""
    from tqdm import tqdm

    from dashboard.appstore_client import AppstoreError
    from dashboard.sync import sync
    from sqlstore import Database

    settings = _settings()
    database = Database(settings.database_url)
    with tqdm(unit="event", desc="sync", disable=None) as bar:
        seen = 0

        def progress(result) -> None:
            nonlocal seen
            bar.update(result.read - seen)
            seen = result.read

        try:
            result = sync(database, _appstore_client(settings), page_size, progress)
        except AppstoreError as error:
            raise click.ClickException(str(error)) from error
        finally:
            database.dispose()
    unreadable = sum(result.unreadable.values())
    click.echo(
        f"read {result.read} events: {result.folded} folded, {result.duplicates} already "
        f"folded, {unreadable} unreadable; log read through {result.last_sequence}"
    )


@main.command("reconcile")
def reconcile_command() -> None:
    """Compare every total and per-app figure with the Appstore's; exit 1 on any drift."""
    from dashboard.appstore_client import AppstoreError
    from dashboard.reconcile import reconcile
    from sqlstore import Database

    settings = _settings()
    database = Database(settings.database_url)
    try:
        drifts = reconcile(database, _appstore_client(settings))
    except AppstoreError as error:
        raise click.ClickException(str(error)) from error
    finally:
        database.dispose()
    for drift in drifts:
        click.echo(str(drift))
    if drifts:
        click.echo(f"{len(drifts)} figure(s) drifted", err=True)
        raise SystemExit(1)
    click.echo("no drift: the projections match the Appstore")


@main.command("rebuild")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--batch-size",
    default=5000,
    show_default=True,
    type=click.IntRange(min=1),
    help="About how many events to fold per transaction into the fresh tables.",
)
def rebuild_command(page_size: int, batch_size: int) -> None:
    """Reset the projections and re-fold the whole log from the Appstore.

    The log is folded into fresh tables while the live ones keep answering (and the worker
    keeps folding); once caught up, one transaction swaps them in and raises the fold
    generation. One rebuild at a time per database.
    """
    from tqdm import tqdm

    from dashboard.appstore_client import AppstoreError
    from dashboard.rebuild import SWAPPING, RebuildRunning, rebuild
    from sqlstore import Database

    settings = _settings()
    client = _appstore_client(settings)
    _require_tables(settings.database_url)
    database = Database(settings.database_url)
    with tqdm(unit="event", desc="rebuild", disable=None) as bar:

        def progress(result) -> None:
            bar.update(result.read - bar.n)
            if result.phase == SWAPPING:
                bar.set_description("rebuild: swapping in")

        try:
            result = rebuild(
                database,
                client,
                page_size=page_size,
                batch_size=batch_size,
                on_progress=progress,
            )
        except (AppstoreError, RebuildRunning, ValueError) as error:
            raise click.ClickException(str(error)) from error
        finally:
            database.dispose()
            client.close()
        bar.update(result.read - bar.n)
    unreadable = sum(result.unreadable.values())
    click.echo(
        f"rebuilt from {result.read} events ({result.folded} folded, {unreadable} unreadable, "
        f"{result.tail} of them during the swap); log read through {result.last_sequence}; "
        f"fold generation now {result.generation}"
    )


def _rabbitmq_url(settings: Settings) -> str:
    if not settings.broker_url.startswith(("amqp://", "amqps://")):
        raise click.ClickException(
            "BROKER_URL must be a RabbitMQ URL (amqp://...) for this command, "
            f"not {mask_url_password(settings.broker_url)!r}"
        )
    return settings.broker_url


def _declare_topology(broker_url: str) -> None:
    import pika

    from dashboard.worker.topology import declare

    try:
        connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    except pika.exceptions.AMQPError as exc:
        raise click.ClickException(
            f"cannot reach RabbitMQ at {mask_url_password(broker_url)}: {exc!r}"
        ) from exc
    try:
        declare(connection.channel())
    finally:
        connection.close()


def _require_tables(database_url: str, *, everything: bool = False) -> None:
    """Refuse to start on a database that is not migrated: the worker needs its dedupe,
    progress and dead-letter tables; the API (``everything``) reads every table."""
    from sqlalchemy import inspect

    from dashboard.models import Base
    from sqlstore import Database

    database = Database(database_url, pool_size=1)
    try:
        present = set(inspect(database.engine).get_table_names())
    except Exception as exc:
        raise click.ClickException(f"cannot reach the dashboard database: {exc}") from exc
    finally:
        database.dispose()
    needed = {"processed_events", "fold_progress", "dead_letters"}
    if everything:
        needed = {table.name for table in Base.metadata.sorted_tables}
    missing = needed - present
    if missing:
        raise click.ClickException(
            f"the dashboard database lacks {', '.join(sorted(missing))}: "
            "run `dashboard db upgrade` first"
        )


@main.command("worker")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--threads",
    default=256,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker threads per process. A fold batch holds at most one event per thread, "
    "so more threads mean larger batches; they mostly wait, so they are cheap.",
)
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
    import os
    import shutil
    import sys
    import tempfile

    settings = _settings()
    _require_tables(settings.database_url)
    if settings.broker_url == EMBEDDED_BROKER_URL:
        _embedded_worker(settings, processes, threads)
        return
    _declare_topology(_rabbitmq_url(settings))
    # Set before prometheus_client is imported anywhere (importing dashboard.worker does
    # it): its multiprocess mode, which sums all worker processes, is chosen at import time.
    metrics_dir = tempfile.mkdtemp(prefix="dashboard-worker-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from dashboard.worker.broker import fold_batch_max
    from dashboard.worker.healing import sync_interval
    from dashboard.worker.metrics import PORT_VARIABLE, metrics_port

    try:
        fold_batch_max()
        port, healing = metrics_port(), sync_interval() > 0
    except ValueError as exc:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        raise click.ClickException(str(exc)) from exc
    from servicekit import logs

    # Configured here and inherited by every forked process, instead of Dramatiq's text
    # format: each process writes its own JSON lines to stdout.
    logs.configure("dashboard-worker")
    arguments = ["dashboard.worker.app", "--skip-logging", "--processes", str(processes)]
    arguments += ["--threads", str(threads)]
    if port:
        os.environ[PORT_VARIABLE] = str(port)
        arguments += ["--fork-function", "dashboard.worker.metrics:serve_metrics"]
    if healing:
        arguments += ["--fork-function", "dashboard.worker.healing:heal_gaps"]

    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    try:
        code = dramatiq_main(make_argument_parser().parse_args(arguments))
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    sys.exit(code or 0)


def _embedded_worker(settings: Settings, processes: int, threads: int) -> None:
    """The worker without RabbitMQ: one process, following the Appstore's event log."""
    from prometheus_client import start_http_server

    from dashboard.worker import embedded
    from dashboard.worker.metrics import metrics_port, metrics_registry
    from servicekit import logs

    if not (settings.service_username and settings.service_password):
        raise click.UsageError(
            "without RabbitMQ the worker reads the Appstore's event log: set "
            "DASHBOARD_SERVICE_USERNAME and DASHBOARD_SERVICE_PASSWORD (a service account)"
        )
    if processes > 1:
        raise click.UsageError("--processes needs RabbitMQ (BROKER_URL=amqp://...)")
    logs.configure("dashboard-worker")
    try:
        port = metrics_port()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if port:
        from sqlstore import Database

        database = Database(settings.database_url, pool_size=1)
        start_http_server(port, addr="127.0.0.1", registry=metrics_registry(database))
    click.echo(f"folding the event log of {settings.appstore_url} (in-process broker)")
    embedded.run(settings, threads, embedded.stop_on_signals())


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=lambda: int(os.environ.get("DASHBOARD_WORKERS", 2)),
    show_default="DASHBOARD_WORKERS or 2",
    type=click.IntRange(1, 64),
    help="gunicorn worker processes.",
)
@click.option(
    "--threads",
    default=lambda: int(os.environ.get("DASHBOARD_THREADS", 32)),
    show_default="DASHBOARD_THREADS or 32",
    type=click.IntRange(1, 1000),
    help="Threads per worker process. Every open event stream (/api/v1/stream) holds one, "
    "so a worker serves up to THREADS streams and requests at once.",
)
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the stats API, its event stream and the page with gunicorn (gthread workers)."""
    from servicekit import logs
    from servicekit.server import serve

    settings = _settings()
    _require_tables(settings.database_url, everything=True)
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


@main.group()
def dlq() -> None:
    """Dead letters: messages the worker could never fold, kept in the database."""


def _selection(ids: tuple[int, ...], everything: bool) -> list[int] | None:
    if bool(ids) == everything:
        raise click.UsageError("give either --id (one or more) or --all")
    return None if everything else list(ids)


@dlq.command("list")
def dlq_list() -> None:
    """Print the kept dead letters: id, reason, event type, times seen, last seen."""
    from dashboard.worker.dead_letters import list_letters
    from sqlstore import Database

    database = Database(_settings().database_url, pool_size=1)
    letters = list_letters(database)
    if not letters:
        click.echo("no dead letters")
        return
    click.echo(f"{'id':>6}  {'reason':<20} {'event type':<16} {'count':>5}  last seen")
    for letter in letters:
        seen = letter.last_seen.isoformat().replace("+00:00", "Z")
        click.echo(
            f"{letter.id:>6}  {letter.reason:<20} {letter.event_type or '-':<16} "
            f"{letter.count:>5}  {seen}  {letter.message_id}  {letter.error[:120]}"
        )


@dlq.command("replay")
@click.option("--id", "ids", type=int, multiple=True, help="A dead letter's id (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every kept dead letter.")
def dlq_replay(ids: tuple[int, ...], everything: bool) -> None:
    """Publish kept dead letters to dashboard.events again and forget them.

    They go to the dashboard's queue only, not to the appstore.events exchange, so other
    consumers do not see the events twice. One that fails again is dead-lettered again.
    """
    from dashboard.worker.dead_letters import forget_replayed, list_letters
    from dashboard.worker.replay import publish_bodies
    from sqlstore import Database

    selected = _selection(ids, everything)
    settings = _settings()
    database = Database(settings.database_url, pool_size=1)
    letters = list_letters(database, selected)
    if selected is not None and len(letters) != len(set(selected)):
        found = {letter.id for letter in letters}
        missing = ", ".join(str(i) for i in sorted(set(selected) - found))
        raise click.ClickException(f"no dead letter with id {missing}")
    published = publish_bodies(_rabbitmq_url(settings), letters)
    if published:
        forget_replayed(database, [letter for letter in letters if letter.id in published])
    click.echo(f"replayed {len(published)} of {len(letters)} dead letters")
    if len(published) != len(letters):
        raise click.ClickException("RabbitMQ refused a message; the rest are still kept")


@dlq.command("purge")
@click.option("--id", "ids", type=int, multiple=True, help="A dead letter's id (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every dead letter, and the .XQ.")
def dlq_purge(ids: tuple[int, ...], everything: bool) -> None:
    """Delete kept dead letters; with --all also empty dashboard.events.XQ."""
    from dashboard.worker.dead_letters import forget
    from sqlstore import Database

    selected = _selection(ids, everything)
    settings = _settings()
    deleted = forget(Database(settings.database_url, pool_size=1), selected)
    click.echo(f"deleted {deleted} dead letters")
    if everything and settings.broker_url.startswith(("amqp://", "amqps://")):
        from dashboard.worker.replay import purge_dead_letter_queue

        click.echo(f"purged {purge_dead_letter_queue(settings.broker_url)} messages from the .XQ")
