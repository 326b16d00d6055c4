"""``dashboard dlq``: the dead letters kept in the database, listed, replayed or purged."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from dashboard import launch
from dashboard.cli.dlq_views import details, details_text, escaped, iso, summary
from dashboard.cli.reporting import reported
from dashboard.config import Settings

if TYPE_CHECKING:
    from dashboard.worker.dead_letters import Selection
    from sqlstore import Database


@click.group("dlq")
def dlq() -> None:
    """Dead letters: messages the worker could never fold, kept in the database."""


_IDS = click.argument("id_arguments", metavar="[ID]...", nargs=-1, type=int)
_ID_OPTION = click.option(
    "--id", "ids", type=int, multiple=True, help="A dead letter's id (repeatable)."
)
_REASON = click.option("--reason", help="Every dead letter with this reason (malformed, ...).")


def _database() -> Database:
    from sqlstore import Database

    return Database(Settings.from_env().database_url, pool_size=1)


def _selection(
    ids: tuple[int, ...],
    everything: bool,
    reason: str | None = None,
    older_than: float | None = None,
    *,
    filters: str = "--reason",
) -> Selection:
    """The letters a command acts on: ids, or --all, or the ``filters`` (--reason, and
    --older-than for purge)."""
    from dashboard.worker.dead_letters import Selection

    filtered = reason is not None or older_than is not None
    if [bool(ids), everything, filtered].count(True) != 1:
        raise click.UsageError(f"give one of: ids (arguments or --id), --all, or {filters}")
    seen_before = None
    if older_than is not None:
        seen_before = datetime.now(UTC) - timedelta(days=older_than)
    return Selection(ids=sorted(set(ids)) if ids else None, reason=reason, seen_before=seen_before)


@dlq.command("list")
@_REASON
@click.option("--type", "event_type", help="Only dead letters of this event type.")
@click.option(
    "--limit", type=click.IntRange(min=1), metavar="N", help="At most N, the oldest first."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON list on stdout, for scripts.")
@reported
def dlq_list(reason: str | None, event_type: str | None, limit: int | None, as_json: bool) -> None:
    """Print the kept dead letters: id, reason, event type, times seen, last seen, error.

    With --json: a list of objects with id, reason, event_type, event_id, sequence,
    times_seen, first_seen, last_seen and error (event_id and sequence are read from the
    body, null when it has none). ``dlq show ID`` prints one letter's body.
    """
    from dashboard.worker.dead_letters import Selection, list_letters

    selection = Selection(reason=reason, event_type=event_type)
    letters = list_letters(_database(), selection=selection, limit=limit)
    if as_json:
        click.echo(json.dumps([summary(letter) for letter in letters], indent=2))
        return
    if not letters:
        click.echo("no dead letters")
        return
    click.echo(f"{'id':>6}  {'reason':<20} {'event type':<16} {'count':>5}  last seen")
    for letter in letters:
        click.echo(
            f"{letter.id:>6}  {letter.reason:<20} {letter.event_type or '-':<16} "
            f"{letter.count:>5}  {iso(letter.last_seen)}  {letter.message_id}  "
            f"{escaped(letter.error[:120])}"
        )


@dlq.command("show")
@click.argument("letter_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@reported
def dlq_show(letter_id: int, as_json: bool) -> None:
    """Print everything kept about dead letter ID, its body included.

    The body is shown as indented JSON when it parses, else as text with control
    characters escaped; the routing key, headers and content type it arrived with, or
    "(not kept)" for letters kept before they were. An unknown ID is an error (exit 1).
    """
    from dashboard.worker.dead_letters import list_letters

    found = list_letters(_database(), [letter_id])
    if not found:
        raise click.ClickException(f"no dead letter with id {letter_id}")
    if as_json:
        click.echo(json.dumps(details(found[0]), indent=2, ensure_ascii=False))
    else:
        click.echo(details_text(found[0]))


@dlq.command("replay")
@_IDS
@_ID_OPTION
@click.option("--all", "everything", is_flag=True, help="Every kept dead letter.")
@_REASON
@reported
def dlq_replay(
    id_arguments: tuple[int, ...], ids: tuple[int, ...], everything: bool, reason: str | None
) -> None:
    """Publish kept dead letters to dashboard.events again and forget them.

    Give ids (as arguments or with --id), --all, or --reason. They go to the dashboard's
    queue only, not to the appstore.events exchange, so other consumers do not see the
    events twice. One that fails again is dead-lettered again.
    """
    from dashboard.worker.dead_letters import forget_replayed, list_letters
    from dashboard.worker.replay import publish_bodies

    selection = _selection(id_arguments + ids, everything, reason)
    settings = Settings.from_env()
    database = _database()
    letters = list_letters(database, selection=selection)
    if selection.ids is not None and len(letters) != len(selection.ids):
        found = {letter.id for letter in letters}
        missing = ", ".join(str(i) for i in selection.ids if i not in found)
        raise click.ClickException(f"no dead letter with id {missing}")
    published = publish_bodies(launch.rabbitmq_url(settings), letters) if letters else []
    if published:
        forget_replayed(database, [letter for letter in letters if letter.id in published])
    click.echo(f"replayed {len(published)} of {len(letters)} dead letters")
    if len(published) != len(letters):
        raise click.ClickException("RabbitMQ refused a message; the rest are still kept")


@dlq.command("purge")
@_IDS
@_ID_OPTION
@click.option("--all", "everything", is_flag=True, help="Every dead letter, and the .XQ.")
@_REASON
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    metavar="DAYS",
    help="Dead letters last seen more than DAYS days ago.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@reported
def dlq_purge(
    id_arguments: tuple[int, ...],
    ids: tuple[int, ...],
    everything: bool,
    reason: str | None,
    older_than: float | None,
    yes: bool,
) -> None:
    """Delete kept dead letters; with --all also empty dashboard.events.XQ.

    Give ids (as arguments or with --id), --all, or --reason and/or --older-than. Asks
    for confirmation on a terminal unless --yes. Without a terminal, --id and --all run
    as they always have; the other forms need --yes.
    """
    from dashboard.worker.dead_letters import forget

    selection = _selection(
        id_arguments + ids, everything, reason, older_than, filters="--reason/--older-than"
    )
    _confirm(yes, scripted=not (id_arguments or reason is not None or older_than is not None))
    settings = Settings.from_env()
    deleted = forget(_database(), selection=selection)
    click.echo(f"deleted {deleted} dead letters")
    if everything and settings.broker_url.startswith(("amqp://", "amqps://")):
        from dashboard.worker.replay import purge_dead_letter_queue

        click.echo(f"purged {purge_dead_letter_queue(settings.broker_url)} messages from the .XQ")


def _confirm(yes: bool, *, scripted: bool) -> None:
    """Ask before purging, unless ``yes``. With no terminal to ask on, the forms scripts
    have always used (``scripted``) go ahead; the others are refused, never left waiting.
    """
    if yes:
        return
    if _on_terminal():
        click.confirm("Delete these dead letters for good?", abort=True, err=True)
    elif not scripted:
        raise click.ClickException("no terminal to confirm on: add --yes to purge")


def _on_terminal() -> bool:
    return sys.stdin.isatty()
