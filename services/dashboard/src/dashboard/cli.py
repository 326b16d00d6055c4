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
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(settings.masked(), indent=2))


@main.group()
def db() -> None:
    """The Dashboard database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the tables to REVISION."""
    from sqlalchemy.engine import make_url

    from dashboard.migrations import upgrade

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        # The embedded default lives under ./.data/, which a fresh checkout does not have.
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)
    click.echo(f"database at {mask_url_password(settings.database_url)} is at {revision}")
