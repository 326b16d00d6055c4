"""``dashboard dlq list|show|replay|purge`` against a real database and RabbitMQ."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from dashboard.cli import main
from dashboard.worker.dead_letters import Letter, keep
from dashboard.worker.topology import QUEUE

from .conftest import read_dead_letters, registration, wait_until

NOT_JSON = b"order #7\x01 broke\nhere \xe2\x9c\x93 {"


def unknown_type(sequence: int) -> dict:
    return {**registration(sequence, sequence=sequence), "event_type": "AppExploded"}


def kept(database, name: str, reason: str, *, at: datetime | None = None) -> int:
    """Keep a dead letter whose body is ``name``; return its id."""
    with database.transaction() as session:
        keep(session, Letter(name, reason, f"{reason} error", name, None), now=at)
    return next(d.id for d in read_dead_letters(database) if d.message_id == name)


def test_a_non_json_message_is_listed_and_readable(rabbit, workers, worker_db, worker_env):
    workers.start(processes=1, threads=4)
    bad_json = unknown_type(4242)
    rabbit.publish(NOT_JSON, "app.purchased")
    rabbit.publish(json.dumps(bad_json).encode(), "user.registered")
    wait_until(lambda: len(read_dead_letters(worker_db)) == 2, 60, "two dead letters kept")
    runner = CliRunner(env=worker_env)

    listed = runner.invoke(main, ["dlq", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    entries = {entry["reason"]: entry for entry in json.loads(listed.stdout)}
    assert set(entries) == {"malformed", "unknown_type"}
    for entry in entries.values():
        assert set(entry) == {
            "id",
            "reason",
            "event_type",
            "event_id",
            "sequence",
            "times_seen",
            "first_seen",
            "last_seen",
            "error",
        }
        assert entry["times_seen"] == 1
        assert entry["first_seen"].endswith("Z")
        assert entry["last_seen"].endswith("Z")
        assert entry["error"]
    malformed = entries["malformed"]
    assert (malformed["event_type"], malformed["event_id"], malformed["sequence"]) == (
        None,
        None,
        None,
    )
    unknown = entries["unknown_type"]
    assert unknown["event_type"] == "AppExploded"
    assert unknown["event_id"] == bad_json["event_id"]
    assert unknown["sequence"] == 4242

    narrowed = runner.invoke(main, ["dlq", "list", "--json", "--reason", "malformed"])
    assert [e["id"] for e in json.loads(narrowed.stdout)] == [malformed["id"]]
    typed = runner.invoke(main, ["dlq", "list", "--json", "--type", "AppExploded"])
    assert [e["id"] for e in json.loads(typed.stdout)] == [unknown["id"]]
    limited = runner.invoke(main, ["dlq", "list", "--json", "--limit", "1"])
    assert len(json.loads(limited.stdout)) == 1

    shown = runner.invoke(main, ["dlq", "show", str(malformed["id"])])
    assert shown.exit_code == 0, shown.output
    # The control characters are visible as escapes, the rest as it was.
    assert "order #7\\x01 broke\\nhere \u2713 {" in shown.stdout
    assert "\x01" not in shown.stdout
    assert "malformed" in shown.stdout
    assert "routing key:" in shown.stdout
    assert "headers:" in shown.stdout

    shown_json = runner.invoke(main, ["dlq", "show", "--json", str(malformed["id"])])
    as_json = json.loads(shown_json.stdout)
    assert as_json["body"] == NOT_JSON.decode()
    assert as_json["body_json"] is None
    assert as_json["times_seen"] == 1

    pretty = runner.invoke(main, ["dlq", "show", str(unknown["id"])])
    assert pretty.exit_code == 0, pretty.output
    assert '  "event_type": "AppExploded",' in pretty.stdout


def test_show_gives_the_routing_key_and_headers_the_message_came_with(
    rabbit, workers, worker_db, worker_env
):
    workers.start(processes=1, threads=2)
    headers = {"x-origin": "billing-import", "attempt": 3, "note": b"raw bytes"}
    rabbit.publish(b"not an event", "app.purchased", headers=headers, content_type="text/plain")
    wait_until(lambda: len(read_dead_letters(worker_db)) == 1, 60, "the dead letter kept")
    new = read_dead_letters(worker_db)[0].id
    old = kept(worker_db, "kept-before-properties", "malformed")
    runner = CliRunner(env=worker_env)

    shown = runner.invoke(main, ["dlq", "show", str(new)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "routing key:  app.purchased" in lines
    assert "content type: text/plain" in lines
    shown_headers = '{"attempt": 3, "note": "raw bytes", "x-origin": "billing-import"}'
    assert f"headers:      {shown_headers}" in lines

    as_json = json.loads(runner.invoke(main, ["dlq", "show", "--json", str(new)]).stdout)
    assert as_json["routing_key"] == "app.purchased"
    assert as_json["headers"] == {"x-origin": "billing-import", "attempt": 3, "note": "raw bytes"}
    assert as_json["content_type"] == "text/plain"
    listed = json.loads(runner.invoke(main, ["dlq", "list", "--json"]).stdout)
    assert all("routing_key" not in entry and "headers" not in entry for entry in listed)

    older = runner.invoke(main, ["dlq", "show", str(old)])
    assert "routing key:  (not kept)" in older.stdout.splitlines()
    assert "headers:      (not kept)" in older.stdout.splitlines()
    old_json = json.loads(runner.invoke(main, ["dlq", "show", "--json", str(old)]).stdout)
    assert (old_json["routing_key"], old_json["headers"]) == (None, None)


def test_show_of_an_unknown_id_is_one_line_and_exit_1(worker_db, worker_env):
    kept(worker_db, "only", "malformed")
    result = CliRunner(env=worker_env).invoke(main, ["dlq", "show", "999999"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "999999" in result.output


def test_replay_by_id_and_by_reason_publishes_exactly_those(rabbit, worker_db, worker_env):
    ids = {
        name: kept(worker_db, name, reason)
        for name, reason in [
            ("m1", "malformed"),
            ("m2", "malformed"),
            ("m3", "malformed"),
            ("u1", "unknown_type"),
            ("p1", "invalid_payload"),
        ]
    }
    runner = CliRunner(env=worker_env)

    by_id = runner.invoke(main, ["dlq", "replay", str(ids["m2"])])
    assert by_id.exit_code == 0, by_id.output
    assert "replayed 1 of 1 dead letters" in by_id.output
    assert rabbit.get_all(QUEUE) == [b"m2"]
    assert sorted(d.message_id for d in read_dead_letters(worker_db)) == ["m1", "m3", "p1", "u1"]

    by_reason = runner.invoke(main, ["dlq", "replay", "--reason", "malformed"])
    assert by_reason.exit_code == 0, by_reason.output
    assert "replayed 2 of 2 dead letters" in by_reason.output
    assert rabbit.get_all(QUEUE) == [b"m1", b"m3"]
    assert sorted(d.message_id for d in read_dead_letters(worker_db)) == ["p1", "u1"]

    # --id keeps working beside the arguments.
    both = runner.invoke(main, ["dlq", "replay", str(ids["u1"]), "--id", str(ids["p1"])])
    assert "replayed 2 of 2 dead letters" in both.output
    assert sorted(rabbit.get_all(QUEUE)) == [b"p1", b"u1"]
    assert read_dead_letters(worker_db) == []

    unknown = runner.invoke(main, ["dlq", "replay", "424242"])
    assert unknown.exit_code == 1
    assert rabbit.depth(QUEUE) == 0


def test_purge_by_id_reason_and_age_deletes_exactly_those(worker_db, worker_env):
    old = datetime.now(UTC) - timedelta(days=30)
    ids = {
        "m1": kept(worker_db, "m1", "malformed"),
        "m2": kept(worker_db, "m2", "malformed"),
        "u1": kept(worker_db, "u1", "unknown_type"),
        "u2": kept(worker_db, "u2", "unknown_type"),
        "old": kept(worker_db, "old", "invalid_payload", at=old),
        "new": kept(worker_db, "new", "invalid_payload"),
    }
    runner = CliRunner(env=worker_env)

    def remaining() -> list[str]:
        return sorted(d.message_id for d in read_dead_letters(worker_db))

    # No terminal to ask on and no --yes: refused, nothing deleted, no waiting.
    refused = runner.invoke(main, ["dlq", "purge", "--reason", "malformed"])
    assert refused.exit_code == 1
    assert "--yes" in refused.output
    assert len(remaining()) == 6

    by_id = runner.invoke(main, ["dlq", "purge", str(ids["m1"]), "--yes"])
    assert by_id.exit_code == 0, by_id.output
    assert "deleted 1 dead letters" in by_id.output
    assert remaining() == ["m2", "new", "old", "u1", "u2"]

    by_reason = runner.invoke(main, ["dlq", "purge", "--reason", "unknown_type", "--yes"])
    assert "deleted 2 dead letters" in by_reason.output
    assert remaining() == ["m2", "new", "old"]

    by_age = runner.invoke(main, ["dlq", "purge", "--older-than", "7", "--yes"])
    assert "deleted 1 dead letters" in by_age.output
    assert remaining() == ["m2", "new"]

    # As scripts have always run it: --id without --yes and without a terminal.
    scripted = runner.invoke(main, ["dlq", "purge", "--id", str(ids["m2"])])
    assert scripted.exit_code == 0, scripted.output
    assert "deleted 1 dead letters" in scripted.output
    assert remaining() == ["new"]


def test_purge_asks_on_a_terminal(worker_db, worker_env, monkeypatch):
    kept(worker_db, "m1", "malformed")
    # The module, not the ``dlq`` group that dashboard.cli exports under the same name.
    monkeypatch.setattr(importlib.import_module("dashboard.cli.dlq"), "_on_terminal", lambda: True)
    runner = CliRunner(env=worker_env)
    declined = runner.invoke(main, ["dlq", "purge", "--reason", "malformed"], input="n\n")
    assert declined.exit_code == 1
    assert len(read_dead_letters(worker_db)) == 1
    accepted = runner.invoke(main, ["dlq", "purge", "--reason", "malformed"], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "deleted 1 dead letters" in accepted.output
    assert read_dead_letters(worker_db) == []
