"""CORS: listed origins get answered preflights and readable answers; others get nothing."""

from __future__ import annotations

import dataclasses

import pytest

from appstore.app import create_app

LISTED = "http://localhost:5173"


@pytest.fixture
def cors_client(components):
    settings = dataclasses.replace(components.settings, cors_origins=(LISTED,))
    return create_app(components=dataclasses.replace(components, settings=settings)).test_client()


def preflight(client, origin: str, path: str = "/api/v1/apps/3/purchase"):
    return client.open(
        path,
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )


def test_a_listed_origin_gets_its_preflight_answered(cors_client):
    answer = preflight(cors_client, LISTED)

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == LISTED
    allowed = {h.strip() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "idempotency-key"}
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]


def test_a_listed_origin_may_read_the_pagination(cors_client, api):
    answer = cors_client.get("/api/v1/apps/", headers={"Origin": LISTED, **api.user()["headers"]})

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == LISTED
    assert "X-Pagination" in answer.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("origin", ["http://localhost:5174", "https://evil.example", "null"])
def test_an_origin_not_listed_gets_no_cors_header(cors_client, origin):
    answers = [
        preflight(cors_client, origin),
        cors_client.get("/.well-known/jwks.json", headers={"Origin": origin}),
    ]
    for answer in answers:
        assert not [n for n, _ in answer.headers.items() if n.startswith("Access-Control-")]


def test_without_origins_configured_no_origin_is_allowed(client):
    answer = preflight(client, LISTED)
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_the_setting_is_a_comma_separated_list():
    from appstore.config import Settings

    settings = Settings.from_env({"APPSTORE_CORS_ORIGINS": " https://a.example/ ,,http://b:3000"})
    assert settings.cors_origins == ("https://a.example", "http://b:3000")
