"""Keeping the projections in step with the Appstore: ``sync``, ``reconcile``, ``rebuild``."""

from __future__ import annotations

import click

from dashboard import launch
from dashboard.cli.reporting import reported
from dashboard.config import Settings


@click.command("sync")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(1, 1000))
@reported
def sync_command(page_size: int) -> None:
    """Pull the events missing here from the Appstore's log and fold them."""
    from tqdm import tqdm

    from dashboard.errors import AppstoreUnavailable
    from dashboard.sync import sync
    from sqlstore import Database

    settings = Settings.from_env()
    database = Database(settings.database_url)
    with tqdm(unit="event", desc="sync", disable=None) as bar:
        seen = 0

        def progress(result) -> None:
            nonlocal seen
            bar.update(result.read - seen)
            seen = result.read

        try:
            result = sync(database, launch.appstore_client(settings), page_size, progress)
        except AppstoreUnavailable as error:
            raise click.ClickException(str(error)) from error
        finally:
            database.dispose()
    unreadable = sum(result.unreadable.values())
    click.echo(
        f"read {result.read} events: {result.folded} folded, {result.duplicates} already "
        f"folded, {unreadable} unreadable; log read through {result.last_sequence}"
    )


@click.command("reconcile")
@reported
def reconcile_command() -> None:
    """Compare every total and per-app figure with the Appstore's; exit 1 on any drift."""
    from dashboard.errors import AppstoreUnavailable
    from dashboard.reconcile import reconcile
    from sqlstore import Database

    settings = Settings.from_env()
    database = Database(settings.database_url)
    try:
        drifts = reconcile(database, launch.appstore_client(settings))
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


@click.command("rebuild")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--batch-size",
    default=5000,
    show_default=True,
    type=click.IntRange(min=1),
    help="About how many events to fold per transaction into the fresh tables.",
)
@reported
def rebuild_command(page_size: int, batch_size: int) -> None:
    """Reset the projections and re-fold the whole log from the Appstore.

    The log is folded into fresh tables while the live ones keep answering (and the worker
    keeps folding); once caught up, one transaction swaps them in and raises the fold
    generation. One rebuild at a time per database.
    """
    from tqdm import tqdm

    from dashboard.errors import AppstoreUnavailable, RebuildRunning
    from dashboard.rebuild import SWAPPING, rebuild
    from sqlstore import Database

    settings = Settings.from_env()
    client = launch.appstore_client(settings)
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
