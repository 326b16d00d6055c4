"""``dashboard queues``: the worker's RabbitMQ queues."""

from __future__ import annotations

import json

import click

from dashboard import launch
from dashboard.cli.reporting import reported
from dashboard.config import Settings


@click.group("queues")
def queues() -> None:
    """The worker's queues on RabbitMQ."""


@queues.command("migrate")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON object.")
@reported
def queues_migrate(as_json: bool) -> None:
    """Turn an older install's classic queues into quorum queues, losing no message.

    Each of dashboard.events, .DQ and .XQ that is not a quorum queue with today's arguments
    is emptied into a holding queue, deleted, declared anew and filled again; new events are
    kept in the holding queue meanwhile. Stop every worker first (it refuses otherwise).
    Safe to run again: a run that was interrupted is finished, one with nothing to do
    changes nothing.
    """
    import pika
    from tqdm import tqdm

    from dashboard.worker.queue_migration import QueuesBusy, migrate

    broker_url = launch.rabbitmq_url(Settings.from_env())
    with tqdm(unit="message", desc="moved", disable=None) as bar:
        try:
            results = migrate(broker_url, on_message=lambda: bar.update())
        except QueuesBusy as exc:
            raise launch.LaunchError(str(exc)) from exc
        except pika.exceptions.AMQPError as exc:
            raise launch.LaunchError(
                f"RabbitMQ failed the migration ({exc!r}); nothing is lost: run it again"
            ) from exc
    if as_json:
        summary = {
            "queues": {r.queue: {"replaced": r.replaced, "messages": r.messages} for r in results},
            "replaced": sum(r.replaced for r in results),
            "messages": sum(r.messages for r in results),
        }
        click.echo(json.dumps(summary))
        return
    for result in results:
        state = (
            f"now a quorum queue holding {result.messages} message(s) moved over"
            if result.replaced
            else "already a quorum queue"
        )
        click.echo(f"{result.queue}: {state}")
    click.echo(f"{sum(r.replaced for r in results)} queue(s) replaced")
