"""The ``appstore`` command. Imports stay inside commands so each starts quickly."""

from __future__ import annotations

import json
import os

import click

from appstore.cli.events import events
from appstore.cli.users import users


def _from_env(
    flag: str,
    variable: str,
    fallback: object,
    kind: click.ParamType | None = None,
    shown: str | None = None,
    help: str | None = None,
):
    """An option whose default is the environment variable ``variable``, else ``fallback``
    (``shown`` in the help instead, when given)."""
    return click.option(
        flag,
        envvar=variable,
        default=fallback,
        show_default=f"{variable} or {shown or fallback}",
        type=kind,
        help=help,
    )


@click.group()
def main() -> None:
    """The Appstore service. Configuration comes from environment variables (see README)."""


main.add_command(events)
main.add_command(users)


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
@_from_env(
    "--workers",
    "APPSTORE_WORKERS",
    min(64, 2 * (os.cpu_count() or 1) + 1),
    click.IntRange(1, 64),
    shown="2 x cores + 1, at most 64",
)
@_from_env(
    "--threads",
    "APPSTORE_THREADS",
    4,
    click.IntRange(1, 64),
    help="Threads per process: while one waits on the database, another uses the CPU.",
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the HTTP API with gunicorn (connections kept alive between requests)."""
    from appstore.bootstrap import bootstrap
    from servicekit import logs
    from servicekit.server import serve as run

    logs.configure("appstore-api")
    # Every thread may hold a connection at once: a smaller pool would queue requests on it
    # while the CPU idles.
    os.environ.setdefault("APPSTORE_DB_POOL_SIZE", str(max(10, threads)))
    # Made once here so that workers starting together do not each generate a key.
    bootstrap().db.dispose()
    run(
        "appstore.app:create_app",
        service="appstore-api",
        host=host,
        port=port,
        workers=workers,
        threads=threads,
    )


@main.command()
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 20_000))
@_from_env(
    "--metrics-port",
    "APPSTORE_RELAY_METRICS_PORT",
    9102,
    click.IntRange(0, 65535),
    help="Prometheus metrics port; 0 turns it off.",
)
@_from_env("--metrics-host", "APPSTORE_RELAY_METRICS_HOST", "127.0.0.1")
@_from_env(
    "--settle-interval",
    "APPSTORE_SETTLE_INTERVAL_SECONDS",
    0.25,
    click.FloatRange(0.01, 60),
    help="Seconds the settler of owners' earnings waits when nothing is pending.",
)
def relay(batch_size: int, metrics_port: int, metrics_host: str, settle_interval: float) -> None:
    """Publish the outbox to the broker until SIGINT/SIGTERM (several may run; one leads).

    Beside it, on a thread of its own, the settler pays owners' pending earnings into
    their balances (every relay runs one; they share the work).
    """
    import logging
    import signal
    import threading

    from prometheus_client import start_http_server

    from appstore.bootstrap import bootstrap
    from appstore.relay.publisher import make_publisher
    from appstore.relay.relay import Relay
    from appstore.settlement import Settler
    from servicekit import logs

    logs.configure("appstore-relay")
    parts = bootstrap()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if metrics_port:
        try:
            start_http_server(metrics_port, addr=metrics_host)
        except OSError as error:  # e.g. a second relay on this host: run on, without metrics
            logging.getLogger("appstore.relay").warning(
                "no metrics: cannot listen on %s:%d: %s", metrics_host, metrics_port, error
            )
    if parts.settings.broker_url.startswith("memory://"):
        logging.getLogger("appstore.relay").warning(
            "BROKER_URL is the in-process broker: events are numbered for the event log API "
            "(GET /api/v1/events/) but reach no other process"
        )
    settler = threading.Thread(
        target=Settler(parts.db, settle_interval).run, args=(stop.is_set,), name="settler"
    )
    settler.start()
    try:
        publisher = make_publisher(parts.settings.broker_url)
        Relay(parts.db.engine, publisher, parts.settings.data_dir, batch_size).run(stop.is_set)
    finally:
        stop.set()
        settler.join()


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
