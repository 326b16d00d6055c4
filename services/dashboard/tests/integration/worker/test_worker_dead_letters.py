"""Bad messages: dead-lettered at once, kept in the database, and ``dashboard dlq``."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import func, select

from appstore_events import encode_dict, new_envelope
from dashboard.cli import main
from dashboard.models import ProcessedEvent
from dashboard.worker.dead_letters import Letter, keep
from dashboard.worker.topology import DEAD_LETTER_QUEUE

from .conftest import make_workload, read_dead_letters, read_totals, registration, wait_until


def folded_count(database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(ProcessedEvent))


def bad_bodies() -> dict[str, tuple[bytes, str]]:
    """name → (body, the reason it must be dead-lettered with)."""
    unknown = {**registration(1), "event_type": "AppExploded"}
    newer = {**registration(2), "event_version": 99}
    purchase = encode_dict(
        new_envelope(
            "AppPurchased",
            {
                "purchase_id": 1,
                "app_id": 1,
                "buyer_id": 1,
                "owner_id": 2,
                "price": 5,
                "purchased_at": "2026-11-26T12:00:00Z",
            },
        ).with_sequence(900_100)
    )
    del purchase["data"]["price"]
    return {
        "not json": (b"{this is not json", "malformed"),
        "json list": (b"[1, 2, 3]", "malformed"),
        "unknown type": (json.dumps(unknown).encode(), "unknown_type"),
        "newer version": (json.dumps(newer).encode(), "unsupported_version"),
        "missing field": (json.dumps(purchase).encode(), "invalid_payload"),
    }


def test_bad_messages_are_dead_lettered_kept_listed_and_the_worker_keeps_folding(
    rabbit, workers, worker_db, worker_env
):
    workers.start(processes=1, threads=16)
    bad = bad_bodies()
    for body, _reason in bad.values():
        rabbit.publish(body, "user.registered")
    good = make_workload(100, seed=3)
    rabbit.publish_events(good.envelopes)

    wait_until(lambda: folded_count(worker_db) == 100, 60, "the good events folded")
    wait_until(lambda: len(read_dead_letters(worker_db)) == len(bad), 30, "dead letters kept")
    wait_until(lambda: rabbit.depth(DEAD_LETTER_QUEUE) == len(bad), 30, "the .XQ filled")
    assert read_totals(worker_db) == good.totals

    kept = read_dead_letters(worker_db)
    assert sorted(letter.reason for letter in kept) == sorted(r for _b, r in bad.values())
    assert all(letter.count == 1 for letter in kept)
    # RabbitMQ dead-letters the original bodies, untouched.
    assert sorted(rabbit.get_all(DEAD_LETTER_QUEUE)) == sorted(b for b, _r in bad.values())
    by_reason = {letter.reason: letter for letter in kept}
    assert by_reason["unknown_type"].event_type == "AppExploded"
    assert by_reason["invalid_payload"].event_type == "AppPurchased"

    runner = CliRunner(env=worker_env)
    listed = runner.invoke(main, ["dlq", "list"])
    assert listed.exit_code == 0, listed.output
    for letter in kept:
        assert str(letter.id) in listed.output
    for reason in ("malformed", "unknown_type", "unsupported_version", "invalid_payload"):
        assert reason in listed.output

    # A replayed body that still cannot fold is dead-lettered again: kept, seen once more
    # (or, if the replay forgot it first, kept anew).
    not_json = next(letter for letter in kept if letter.body == "{this is not json")
    replayed = runner.invoke(main, ["dlq", "replay", "--id", str(not_json.id)])
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 of 1" in replayed.output

    def dead_again() -> bool:
        again = [d for d in read_dead_letters(worker_db) if d.message_id == not_json.message_id]
        return len(again) == 1 and (again[0].id != not_json.id or again[0].count == 2)

    wait_until(dead_again, 30, "the replayed bad body dead-lettered again")
    assert folded_count(worker_db) == 100

    purged = runner.invoke(main, ["dlq", "purge", "--all"])
    assert purged.exit_code == 0, purged.output
    assert read_dead_letters(worker_db) == []
    assert rabbit.depth(DEAD_LETTER_QUEUE) == 0


def test_replaying_a_fixed_dead_letter_folds_it(rabbit, workers, worker_db, worker_env):
    workers.start(processes=1, threads=16)
    fixed = registration(7)
    with worker_db.transaction() as session:
        keep(
            session,
            Letter(
                message_id=fixed["event_id"],
                reason="unknown_type",
                error="no fold for this type when it arrived",
                body=json.dumps(fixed),
                event_type="UserRegistered",
            ),
        )
    [letter] = read_dead_letters(worker_db)

    runner = CliRunner(env=worker_env)
    result = runner.invoke(main, ["dlq", "replay", "--id", str(letter.id)])
    assert result.exit_code == 0, result.output
    assert "replayed 1 of 1" in result.output

    wait_until(lambda: folded_count(worker_db) == 1, 30, "the replayed event folded")
    assert read_totals(worker_db)["users"] == 1
    assert read_dead_letters(worker_db) == []


def test_dlq_commands_refuse_an_ambiguous_selection(worker_env):
    runner = CliRunner(env=worker_env)
    assert runner.invoke(main, ["dlq", "replay"]).exit_code == 2
    assert runner.invoke(main, ["dlq", "purge", "--id", "1", "--all"]).exit_code == 2
