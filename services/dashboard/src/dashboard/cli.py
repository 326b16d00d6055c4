"""The ``dashboard`` command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dashboard.config import ConfigError, Settings, mask_url_password


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
    from dashboard.db import Database
    from dashboard.sync import sync

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
    from dashboard.db import Database
    from dashboard.reconcile import reconcile

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
