"""``appstore users``: accounts made from the command line."""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import click

from appstore.models import ROLES


@click.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--email", default=None, help="Defaults to USERNAME@localhost.")
@click.option("--credit", type=click.IntRange(0, 1_000_000), default=0, show_default=True)
@click.option(
    "--if-missing",
    is_flag=True,
    help="If the username is taken (in any case), change nothing, say so on stderr, print "
    "the existing account and exit 0, so set-up scripts can run again.",
)
def users_create(
    username: str, password: str, role: str, email: str | None, credit: int, if_missing: bool
) -> None:
    """Create an account with any role (admin, management and service accounts start here).

    Prints the account as JSON. A username already taken is an error (exit 1) unless
    --if-missing is given.
    """
    from marshmallow import ValidationError

    from appstore.api.schemas.users import RegisterSchema
    from appstore.bootstrap import bootstrap
    from appstore.errors import AppstoreError, Conflict
    from appstore.services import users as accounts

    try:
        body = RegisterSchema().load(
            {"username": username, "password": password, "email": email or f"{username}@localhost"}
        )
    except ValidationError as error:
        raise click.UsageError(json.dumps(error.messages)) from error
    parts = bootstrap()
    # Looked up first so that a re-run does not pay for hashing the password.
    existing = _existing(parts.db, username) if if_missing else None
    if existing is None:
        try:
            user = accounts.register(
                parts.db, parts.passwords, role=role, initial_credit=credit, **body
            )
        except Conflict as error:  # with --if-missing: taken by a registration racing ours
            existing = _existing(parts.db, username) if if_missing else None
            if existing is None:
                _fail(error.message)
        except AppstoreError as error:
            _fail(error.message)
    if existing is not None:
        user = existing
        click.echo(f"user {user.username!r} already exists; nothing changed", err=True)
    click.echo(json.dumps({"id": user.id, "username": user.username, "role": user.role}))


def _existing(db, username: str):
    """The account whose username is ``username`` in any case, or None."""
    from sqlalchemy import func, select

    from appstore.models import User

    with db.reading() as session:
        return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
