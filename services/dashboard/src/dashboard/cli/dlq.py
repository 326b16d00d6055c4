"""``dashboard dlq``: the dead letters kept in the database, listed, replayed or purged."""

from __future__ import annotations

import click

from dashboard import launch
from dashboard.cli.reporting import reported
from dashboard.config import Settings


@click.group("dlq")
def dlq() -> None:
    """Dead letters: messages the worker could never fold, kept in the database."""


def _selection(ids: tuple[int, ...], everything: bool) -> list[int] | None:
    if bool(ids) == everything:
        raise click.UsageError("give either --id (one or more) or --all")
    return None if everything else list(ids)


@dlq.command("list")
@reported
def dlq_list() -> None:
    """Print the kept dead letters: id, reason, event type, times seen, last seen."""
    from dashboard.worker.dead_letters import list_letters
    from sqlstore import Database

    database = Database(Settings.from_env().database_url, pool_size=1)
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
@reported
def dlq_replay(ids: tuple[int, ...], everything: bool) -> None:
    """Publish kept dead letters to dashboard.events again and forget them.

    They go to the dashboard's queue only, not to the appstore.events exchange, so other
    consumers do not see the events twice. One that fails again is dead-lettered again.
    """
    from dashboard.worker.dead_letters import forget_replayed, list_letters
    from dashboard.worker.replay import publish_bodies
    from sqlstore import Database

    selected = _selection(ids, everything)
    settings = Settings.from_env()
    database = Database(settings.database_url, pool_size=1)
    letters = list_letters(database, selected)
    if selected is not None and len(letters) != len(set(selected)):
        found = {letter.id for letter in letters}
        missing = ", ".join(str(i) for i in sorted(set(selected) - found))
        raise click.ClickException(f"no dead letter with id {missing}")
    published = publish_bodies(launch.rabbitmq_url(settings), letters)
    if published:
        forget_replayed(database, [letter for letter in letters if letter.id in published])
    click.echo(f"replayed {len(published)} of {len(letters)} dead letters")
    if len(published) != len(letters):
        raise click.ClickException("RabbitMQ refused a message; the rest are still kept")


@dlq.command("purge")
@click.option("--id", "ids", type=int, multiple=True, help="A dead letter's id (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every dead letter, and the .XQ.")
@reported
def dlq_purge(ids: tuple[int, ...], everything: bool) -> None:
    """Delete kept dead letters; with --all also empty dashboard.events.XQ."""
    from dashboard.worker.dead_letters import forget
    from sqlstore import Database

    selected = _selection(ids, everything)
    settings = Settings.from_env()
    deleted = forget(Database(settings.database_url, pool_size=1), selected)
    click.echo(f"deleted {deleted} dead letters")
    if everything and settings.broker_url.startswith(("amqp://", "amqps://")):
        from dashboard.worker.replay import purge_dead_letter_queue

        click.echo(f"purged {purge_dead_letter_queue(settings.broker_url)} messages from the .XQ")
