"""The ``appstore`` command. Imports stay inside commands so each starts quickly."""

from __future__ import annotations

import json
import os
import sys

import click

from appstore.models import ROLES


@click.group()
def main() -> None:
    """The Appstore service. Configuration comes from environment variables (see README)."""


@main.group()
def db() -> None:
    """The Appstore database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the tables to REVISION."""
    from appstore.config import Settings
    from appstore.migrations import upgrade

    settings = Settings.from_env()
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)
    click.echo(f"database at {_safe(settings.database_url)} is at {revision}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=lambda: int(os.environ.get("APPSTORE_WORKERS", 2 * (os.cpu_count() or 1) + 1)),
    show_default="APPSTORE_WORKERS or 2 x cores + 1",
    type=click.IntRange(1, 64),
)
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the HTTP API with gunicorn."""
    from appstore.bootstrap import bootstrap
    from appstore.server import serve as run

    # Made once here so that workers starting together do not each generate a key.
    bootstrap().db.dispose()
    run(host, port, workers, threads)


@main.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--email", default=None, help="Defaults to USERNAME@localhost.")
@click.option("--credit", type=click.IntRange(0, 1_000_000), default=0, show_default=True)
def users_create(username: str, password: str, role: str, email: str | None, credit: int) -> None:
    """Create an account with any role (admin, management and service accounts start here)."""
    from marshmallow import ValidationError

    from appstore.api.schemas.users import RegisterSchema
    from appstore.bootstrap import bootstrap
    from appstore.errors import AppstoreError
    from appstore.security.principal import Principal
    from appstore.services import users as accounts

    try:
        body = RegisterSchema().load(
            {"username": username, "password": password, "email": email or f"{username}@localhost"}
        )
    except ValidationError as error:
        raise click.UsageError(json.dumps(error.messages)) from error
    parts = bootstrap()
    try:
        user = accounts.register(parts.db, parts.passwords, role=role, **body)
        if credit:
            system = Principal(user.id, user.username, "admin")
            user = accounts.grant_credit(parts.db, system, user.id, credit, "initial credit")
    except AppstoreError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)
    click.echo(json.dumps({"id": user.id, "username": user.username, "role": user.role}))


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option("--password", envvar="DEMO_PASSWORD", default="demo-password", show_default=True)
def demo_seed(password: str) -> None:
    """Create the demo accounts (admin, manager, service) and a small store, once."""
    from appstore import demo as demo_data
    from appstore.bootstrap import bootstrap

    parts = bootstrap()
    if demo_data.demo_accounts_exist(parts):
        click.echo("demo data already present")
        return
    made = demo_data.seed(parts, password)
    click.echo("demo data: " + ", ".join(f"{count} {what}" for what, count in made.items()))


@main.command()
@click.option("--output", type=click.File("w"), default="-", show_default=True)
def openapi(output) -> None:
    """Print the OpenAPI document."""
    from appstore.app import create_app

    spec = create_app().test_client().get("/api/openapi.json").get_json()
    json.dump(spec, output, indent=2, sort_keys=True)
    output.write("\n")


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
