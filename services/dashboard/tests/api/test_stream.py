"""GET /api/v1/stream: a summary on connect and after every fold, heartbeats, expiry."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from appstore.security.tokens import TokenService
from dashboard.auth import JwksKeySource, TokenVerifier

STREAM = "/api/v1/stream"
AT = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
#: Chunks read before giving up on an event: with 0.2 s heartbeats, about 10 s.
PATIENCE = 50


class Events:
    """An open stream, read chunk by chunk (each chunk is one event or comment)."""

    def __init__(self, stack, **params) -> None:
        stack.parts.heartbeat_seconds = 0.2
        self.response = stack.client.get(STREAM, query_string=params, buffered=False)
        self.chunks = iter(self.response.response)

    def next_chunk(self) -> str:
        return next(self.chunks).decode()

    def next_summary(self) -> dict:
        for _ in range(PATIENCE):
            chunk = self.next_chunk()
            if chunk.startswith("id: "):
                lines = dict(line.split(": ", 1) for line in chunk.strip().split("\n"))
                assert lines["event"] == "summary"
                return json.loads(lines["data"])
        pytest.fail("no summary event came")

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def events(postgres_stack):
    opened: list[Events] = []

    def open_stream(**params) -> Events:
        opened.append(Events(postgres_stack, **params))
        return opened[-1]

    yield open_stream
    for stream in opened:
        stream.close()


def test_a_summary_comes_on_connect_and_after_each_fold(postgres_stack, events, log):
    postgres_stack.fold([log.purchased(1, 5, 9, 2, 30, AT)])
    stream = events(access_token=postgres_stack.appstore.token("management"))

    assert stream.response.status_code == 200
    assert stream.response.mimetype == "text/event-stream"
    assert stream.response.headers["Cache-Control"] == "no-cache"
    assert stream.next_chunk() == "retry: 2000\n\n"
    first = stream.next_summary()
    assert (first["purchases"], first["credits_spent"]) == (1, 30)
    assert first == {
        **postgres_stack.ok("/api/v1/stats/summary").json,
        "lag_seconds": first["lag_seconds"],
    }

    postgres_stack.fold([log.purchased(2, 5, 10, 2, 20, AT)])
    assert stream.next_summary()["credits_spent"] == 50
    postgres_stack.fold([log.purchased(3, 6, 10, 2, 5, AT), log.registered(40, "eve", AT)])
    second = stream.next_summary()
    assert (second["purchases"], second["users"], second["buyers"]) == (3, 1, 2)


def test_an_idle_stream_sends_heartbeats(postgres_stack, events):
    stream = events(access_token=postgres_stack.appstore.token("admin"))
    stream.next_summary()

    assert stream.next_chunk() == ": keep-alive\n\n"
    assert stream.next_chunk() == ": keep-alive\n\n"


def test_the_stream_ends_when_its_token_expires(postgres_stack, token_appstore, events):
    keys = JwksKeySource.for_appstore(token_appstore.url)
    postgres_stack.parts.tokens = TokenVerifier(keys, leeway_seconds=0)
    tokens = token_appstore.tokens
    short = TokenService(tokens.key, tokens.issuer, ttl_seconds=1)
    admin_id = token_appstore.user_ids["admin"]
    stream = events(access_token=short.issue(admin_id, "admin_account", "admin"))
    stream.next_summary()

    for _ in range(PATIENCE):
        chunk = stream.next_chunk()
        if chunk.startswith("event: unauthorized"):
            break
    else:
        pytest.fail("the stream outlived its token")
    with pytest.raises(StopIteration):
        stream.next_chunk()
