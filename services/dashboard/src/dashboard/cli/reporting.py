"""How the commands report what stops them, and option defaults taken from the settings."""

from __future__ import annotations

import functools
from collections.abc import Callable

import click

from dashboard import launch
from dashboard.config import Settings
from dashboard.errors import ConfigError


def reported(command: Callable[..., None]) -> Callable[..., None]:
    """Report what stops ``command`` as click's errors: a message, no traceback."""

    @functools.wraps(command)
    def run(*args, **kwargs) -> None:
        try:
            command(*args, **kwargs)
        except launch.Misuse as exc:
            raise click.UsageError(str(exc)) from exc
        except (launch.LaunchError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from exc

    return run


def setting_default(name: str) -> Callable[[], object]:
    """The default of an option that a setting gives, read when the option is not given."""

    def default() -> object:
        try:
            return getattr(Settings.from_env(), name)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc

    return default
