"""The ``dashboard`` command line: options and output; :mod:`dashboard.launch` does the rest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from dashboard import launch
from dashboard.config import ConfigError, Settings, mask_url_password


@click.group()
@click.version_option(package_name="dashboard", prog_name="dashboard")
def main() -> None:
    """Operate the appstore-events management dashboard."""


@contextmanager
def _reported() -> Iterator[None]:
    """Turn what stops a command into click's errors: a message, no traceback."""
    try:
        yield
    except launch.Misuse as exc:
        raise click.UsageError(str(exc)) from exc
    except (launch.LaunchError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc


def _settings() -> Settings:
    with _reported():
        return Settings.from_env()


def _appstore_client(settings: Settings):
    with _reported():
        return launch.appstore_client(settings)


def _rabbitmq_url(settings: Settings) -> str:
    with _reported():
        return launch.rabbitmq_url(settings)


def _setting(name: str):
    """The default of an option that a setting gives, read when the option is not given."""
    return lambda: getattr(_settings(), name)


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
    settings = _settings()
    launch.upgrade_database(settings, revision)
    click.echo(f"database at {mask_url_password(settings.database_url)} is at {revision}")


@main.command("sync")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(1, 1000))
def sync_command(page_size: int) -> None:
    """Pull the events missing here from the Appstore's log and fold them."""
    from tqdm import tqdm

    from dashboard.appstore_client import AppstoreUnavailable
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
        except AppstoreUnavailable as error:
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
    from dashboard.appstore_client import AppstoreUnavailable
    from dashboard.reconcile import reconcile
    from sqlstore import Database

    settings = _settings()
    database = Database(settings.database_url)
    try:
        drifts = reconcile(database, _appstore_client(settings))
    except AppstoreUnavailable as error:
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

    from dashboard.appstore_client import AppstoreUnavailable
    from dashboard.rebuild import SWAPPING, RebuildRunning, rebuild
    from sqlstore import Database

    settings = _settings()
    client = _appstore_client(settings)
    with _reported():
        launch.require_tables(settings.database_url)
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
        except (AppstoreUnavailable, RebuildRunning, ValueError) as error:
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
    settings = _settings()
    with _reported():
        code = launch.run_worker(settings, processes, threads, say=click.echo)
    if code:
        raise SystemExit(code)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=_setting("serve_workers"),
    show_default="DASHBOARD_WORKERS or 2",
    type=click.IntRange(1, 64),
    help="gunicorn worker processes.",
)
@click.option(
    "--threads",
    default=_setting("serve_threads"),
    show_default="DASHBOARD_THREADS or 32",
    type=click.IntRange(1, 1000),
    help="Threads per worker process. Every open event stream (/api/v1/stream) holds one, "
    "so a worker serves up to THREADS streams and requests at once.",
)
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the stats API, its event stream and the page with gunicorn (gthread workers)."""
    settings = _settings()
    with _reported():
        launch.serve_api(settings, host, port, workers, threads)


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
