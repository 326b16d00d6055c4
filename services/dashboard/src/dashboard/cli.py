"""The ``dashboard`` command line."""

from __future__ import annotations

import json

import click

from dashboard.config import ConfigError, Settings


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
