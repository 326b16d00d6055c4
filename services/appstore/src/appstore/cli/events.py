"""``appstore events``: the event log (outbox), published again on an operator's demand."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import NoReturn

import click


class Instant(click.ParamType):
    """An ISO-8601 time; one without a zone is taken as UTC."""

    name = "TIME"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            parsed = value
        else:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                self.fail(
                    f"{value!r} is not an ISO-8601 time (e.g. 2026-12-06T09:30:00Z)", param, ctx
                )
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def known_event_types(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> frozenset[str]:
    """The event types named, spelt as the registry spells them; any other is a usage error."""
    from appstore_events import EVENT_TYPES

    known = {name.lower(): name for name in EVENT_TYPES}
    unknown = [value for value in values if value.lower() not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown event type {', '.join(map(repr, unknown))}; "
            f"the known types are {', '.join(EVENT_TYPES)}",
            ctx=ctx,
            param=param,
        )
    return frozenset(known[value.lower()] for value in values)


@click.group()
def events() -> None:
    """The event log (outbox)."""


@events.command("replay")
@click.option("--after", default=0, show_default=True, type=click.IntRange(0), help="Exclusive.")
@click.option("--until", default=None, type=click.IntRange(0), help="Inclusive; default: last.")
@click.option(
    "--since",
    type=Instant(),
    default=None,
    help="Only events that occurred at or after TIME (ISO-8601; no zone means UTC).",
)
@click.option(
    "--before",
    type=Instant(),
    default=None,
    help="Only events that occurred before TIME (exclusive; ISO-8601; no zone means UTC).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="EVENT_TYPE",
    callback=known_event_types,
    help="Only events of this type (e.g. AppPurchased); repeat for several.",
)
@click.option(
    "--queue",
    default=None,
    metavar="NAME",
    help="Publish into this existing queue only, through the default exchange, so no other "
    "consumer sees the replay. Default: to the appstore.events exchange.",
)
@click.option("--dry-run", is_flag=True, help="Publish nothing; list what would be published.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print only the final summary, as one JSON object."
)
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 20_000))
def events_replay(
    after: int,
    until: int | None,
    since: datetime | None,
    before: datetime | None,
    types: frozenset[str],
    queue: str | None,
    dry_run: bool,
    as_json: bool,
    batch_size: int,
) -> None:
    """Publish the events with AFTER < sequence <= UNTIL again, in sequence order
    (consumers dedupe them), narrowed by time and type if asked.

    Safe while the relay runs: it reads the log and publishes on its own connection, and
    leaves the relay's progress alone. A progress bar goes to stderr; the final count, or
    with --json the summary {"events", "first_sequence", "last_sequence", "by_type",
    "dry_run"}, to stdout. Exit 1 if the broker fails or the --queue does not exist.
    """
    from tqdm import tqdm

    from appstore import outbox
    from appstore.bootstrap import bootstrap
    from appstore.errors import PublishError
    from appstore.relay import replay

    parts = bootstrap()
    if not dry_run and parts.settings.broker_url.startswith("memory://"):
        raise click.UsageError(
            "BROKER_URL names the in-process broker, which no other process reads; "
            "set it to the broker the consumers use (amqp://...)"
        )
    with parts.db.reading() as session:
        last = outbox.last_sequence(session)
        # Pinned now: events logged while the replay runs are the relay's to publish.
        until = last if until is None else min(until, last)
        selection = replay.Selection(after, until, since, before, types)
        total = replay.count(session, selection)
    summary = replay.Summary(dry_run=dry_run)
    publisher = None if dry_run else _connected(parts.settings.broker_url, queue)
    try:
        with tqdm(total=total, unit="event", desc="replay", disable=None) as bar:

            def progress(batch) -> None:
                if dry_run and not as_json:
                    for selected in batch:
                        bar.write(_listed(selected), file=sys.stdout)
                bar.update(len(batch))

            replay.replay(
                parts.db,
                publisher,
                selection,
                summary,
                batch_size=batch_size,
                queue=queue,
                on_batch=progress,
            )
    except PublishError as error:
        _print_summary(summary, queue, as_json)
        _fail(f"replay stopped after sequence {summary.last_sequence or after}: {error}")
    finally:
        if publisher is not None:
            publisher.close()
    _print_summary(summary, queue, as_json)


def _connected(broker_url: str, queue: str | None):
    """A publisher to the exchange, or into ``queue`` only, connected; exit 1 if it cannot be."""
    from amqp.exceptions import NotFound

    from appstore.relay.publisher import make_publisher
    from appstore.relay.queue_publisher import QueuePublisher

    publisher = QueuePublisher(broker_url, queue) if queue else make_publisher(broker_url)
    try:
        publisher.connect()
    except NotFound:
        _fail(f"no queue named {queue!r} on the broker: replay fills an existing queue only")
    except Exception as error:
        _fail(f"cannot connect to the broker: {error}")
    return publisher


def _listed(selected) -> str:
    """One line of a dry run: what would go out."""
    event = selected.event
    when = selected.occurred_at.isoformat().replace("+00:00", "Z")
    return f"{event.sequence}\t{when}\t{selected.event_type}\t{event.event_id}"


def _print_summary(summary, queue: str | None, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json()))
        return
    if summary.by_type:
        click.echo("by type: " + ", ".join(f"{t} {n}" for t, n in sorted(summary.by_type.items())))
    verb = "would replay" if summary.dry_run else "replayed"
    line = f"{verb} {summary.events} events"
    if summary.events:
        line += f" (sequence {summary.first_sequence}..{summary.last_sequence})"
    if queue:
        line += f" into queue {queue}"
    click.echo(line)


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)
