"""``appstore users create``: an account, and its starting credit, in one transaction."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from appstore.cli import main
from appstore.models import OutboxEvent, User


def _create(components, monkeypatch, *arguments: str):
    monkeypatch.setenv("APPSTORE_DATABASE_URL", components.settings.database_url)
    monkeypatch.setenv("APPSTORE_DATA_DIR", str(components.settings.data_dir))
    monkeypatch.setenv("APPSTORE_PASSWORD_PROFILE", "cheapest")
    return CliRunner().invoke(main, ["users", "create", "--password", "long enough", *arguments])


def _events(components) -> list[tuple[str, dict]]:
    with components.db.reading() as session:
        rows = session.execute(select(OutboxEvent.event_type, OutboxEvent.envelope)).all()
    return [(kind, json.loads(envelope)["data"]) for kind, envelope in rows]


def test_an_account_with_starting_credit_is_made_with_both_events(components, monkeypatch):
    result = _create(
        components, monkeypatch, "--username", "ops", "--role", "service", "--credit", "50"
    )
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    with components.db.reading() as session:
        user = session.get(User, made["id"])
    assert (user.role, user.credit) == ("service", 50)
    kinds = [kind for kind, _data in _events(components)]
    assert kinds == ["UserRegistered", "CreditGranted"]
    granted = _events(components)[1][1]
    assert (granted["user_id"], granted["amount"]) == (user.id, 50)


def test_a_taken_username_changes_nothing(components, monkeypatch):
    assert _create(components, monkeypatch, "--username", "twice").exit_code == 0
    again = _create(components, monkeypatch, "--username", "TWICE", "--credit", "10")
    assert again.exit_code == 1
    assert "already taken" in again.output
    assert [kind for kind, _data in _events(components)] == ["UserRegistered"]


def _accounts(components, username: str) -> int:
    with components.db.reading() as session:
        return len(session.scalars(select(User).where(User.username == username)).all())


def test_if_missing_twice_makes_one_account_and_exits_0_both_times(components, monkeypatch):
    first = _create(components, monkeypatch, "--username", "setup", "--credit", "5", "--if-missing")
    again = _create(
        components, monkeypatch, "--username", "SETUP", "--role", "admin", "--if-missing"
    )

    assert (first.exit_code, again.exit_code) == (0, 0), (first.output, again.output)
    assert first.stderr == ""
    assert again.stderr == "user 'setup' already exists; nothing changed\n"
    # The existing account is printed, as it is: the second call's role changed nothing.
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert json.loads(again.stdout)["role"] == "user"
    assert _accounts(components, "setup") == 1
    assert [kind for kind, _data in _events(components)] == ["UserRegistered", "CreditGranted"]


def test_without_if_missing_a_second_create_is_a_one_line_error(components, monkeypatch):
    assert _create(components, monkeypatch, "--username", "once").exit_code == 0
    again = _create(components, monkeypatch, "--username", "once")

    assert again.exit_code == 1
    assert again.stdout == ""
    assert again.stderr == "error: Username 'once' is already taken.\n"
    assert _accounts(components, "once") == 1
