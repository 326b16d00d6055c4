"""Sign-in and registration throttling: failed sign-ins per username and per address,
registrations per address, ``off``, and counts shared through Redis by two API processes."""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from flask import request
from flask_limiter import Limiter

from appstore.app import create_app
from appstore.config import Settings
from appstore.throttling import check_limit
from servicekit.testing import ServiceUnavailable, free_port, redis_url, serving

from ..conftest import PASSWORD

TOKEN = "/api/v1/auth/token"
REGISTER = "/api/v1/auth/register"


def throttled_client(components, **limits):
    settings = dataclasses.replace(
        components.settings,
        **{
            "signin_limit": "5/minute",
            "signin_address_limit": "30/minute",
            "register_limit": "30/minute",
            **limits,
        },
    )
    app = create_app(components=dataclasses.replace(components, settings=settings))
    return app.test_client()


def sign_in(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        TOKEN,
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_passwords_for_one_user_get_429_while_another_signs_in(components, api):
    client = throttled_client(components)
    victim, other = api.user(), api.user()
    answers = []
    other_answers = []

    def attack() -> None:
        for _ in range(20):
            answers.append(sign_in(client, victim["username"], "wrong password"))

    attacker = threading.Thread(target=attack)
    attacker.start()
    while attacker.is_alive():
        other_answers.append(sign_in(client, other["username"], PASSWORD))
    attacker.join()

    statuses = [answer.status_code for answer in answers]
    assert statuses[:5] == [401] * 5
    assert 429 in statuses[:19]
    assert set(statuses[5:]) == {429}
    refused = answers[5]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["code"] == 429
    # The right password of someone else, from the same address at the same time: never slowed.
    assert other_answers
    assert {a.status_code for a in other_answers} == {200}
    # The throttled user's own right password waits too: the guessing is what is throttled.
    assert sign_in(client, victim["username"], PASSWORD).status_code == 429


def test_the_username_is_counted_however_it_is_spelt_and_sent(components, api):
    client = throttled_client(components, signin_limit="2/minute")
    user = api.user()
    assert sign_in(client, user["username"].upper(), "wrong").status_code == 401
    form = {"grant_type": "password", "username": user["username"], "password": "wrong"}
    assert client.post(TOKEN, data=form).status_code == 401
    assert sign_in(client, user["username"], PASSWORD).status_code == 429


def test_failed_sign_ins_from_one_address_are_throttled_across_usernames(components, api):
    client = throttled_client(components, signin_address_limit="3/minute")
    users = [api.user() for _ in range(4)]
    statuses = [sign_in(client, u["username"], "wrong", "203.0.113.7").status_code for u in users]
    assert statuses == [401, 401, 401, 429]
    # Another address is not affected.
    assert sign_in(client, users[0]["username"], PASSWORD, "203.0.113.8").status_code == 200


def test_successful_sign_ins_are_never_counted(components, api):
    client = throttled_client(components, signin_limit="2/minute", signin_address_limit="2/minute")
    user = api.user()
    assert {sign_in(client, user["username"], PASSWORD).status_code for _ in range(6)} == {200}


def test_registrations_are_throttled_per_address(components):
    client = throttled_client(components, register_limit="3/minute")

    def register(name: str, address: str):
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        return client.post(REGISTER, json=body, environ_base={"REMOTE_ADDR": address})

    statuses = [register(f"reg{i}", "198.51.100.1").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert int(register("reg9", "198.51.100.1").headers["Retry-After"]) >= 1
    assert register("reg10", "198.51.100.2").status_code == 201


def test_off_disables_a_limit(components, api):
    client = throttled_client(components, signin_limit="off", signin_address_limit="off")
    user = api.user()
    assert {sign_in(client, user["username"], "wrong").status_code for _ in range(12)} == {401}


@pytest.mark.parametrize("value", ["5 per fortnight", "five/minute", ""])
def test_a_limit_that_is_not_one_is_refused_at_start(value):
    with pytest.raises(ValueError, match="APPSTORE_SIGNIN_LIMIT"):
        Settings.from_env({"APPSTORE_SIGNIN_LIMIT": value or "/"})
    assert check_limit("X", "OFF") == "off"


def test_two_api_processes_share_the_count_through_redis(components, api, tmp_path):
    try:
        redis = redis_url()
    except ServiceUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    user = api.user(name=f"shared{uuid.uuid4().hex[:8]}")
    settings = components.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("APPSTORE_")},
        "APPSTORE_DATABASE_URL": settings.database_url,
        "APPSTORE_DATA_DIR": str(settings.data_dir),
        "APPSTORE_PASSWORD_PROFILE": settings.password_profile,
        "APPSTORE_SIGNIN_LIMIT": "4/minute",
        "APPSTORE_SIGNIN_ADDRESS_LIMIT": "off",
        "REDIS_URL": redis,
    }
    appstore = str(Path(sys.executable).with_name("appstore"))
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    commands = [[appstore, "serve", "--port", str(port), "--workers", "1"] for port in ports]
    with (
        serving(commands[0], env, urls[0], tmp_path / "a.log"),
        serving(commands[1], env, urls[1], tmp_path / "b.log"),
    ):
        body = {"username": user["username"], "password": "wrong"}
        statuses = [
            requests.post(f"{urls[i % 2]}{TOKEN}", json=body, timeout=30).status_code
            for i in range(6)
        ]
    # Two each on both processes, then both refuse: one count, not one per process.
    assert statuses == [401, 401, 401, 401, 429, 429]


def test_requests_outside_sign_in_and_registration_never_meet_the_limiter(
    components, api, monkeypatch
):
    calls = []
    real = Limiter._check_request_limit

    def counted(limiter, *args, **kwargs):
        calls.append(request.endpoint)
        return real(limiter, *args, **kwargs)

    monkeypatch.setattr(Limiter, "_check_request_limit", counted)
    client = throttled_client(components)
    user = api.user()
    assert client.get("/api/v1/users/me", headers=user["headers"]).status_code == 200
    assert calls == []
    for _ in range(6):
        sign_in(client, user["username"], "wrong password")
    assert set(calls) == {"auth.Token"}
    assert sign_in(client, user["username"], PASSWORD).status_code == 429
