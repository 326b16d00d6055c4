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
