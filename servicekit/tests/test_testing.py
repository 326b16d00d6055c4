"""Finding the servers tests run against: the configured one, or a clear failure."""

from __future__ import annotations

import socket

import pytest

from servicekit import testing


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_listening_server_answers_and_a_closed_port_does_not():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert testing.answers(f"redis://127.0.0.1:{server.getsockname()[1]}/0", 6379)
    assert not testing.answers(f"redis://127.0.0.1:{_closed_port()}/0", 6379, timeout=1)


@pytest.mark.parametrize(
    ("resolve", "variable", "scheme", "hint"),
    [
        (testing.rabbitmq_url, "TEST_BROKER_URL", "amqp", "rabbitmq-server -detached"),
        (testing.redis_url, "TEST_REDIS_URL", "redis", "redis-server --daemonize yes"),
    ],
)
def test_an_unreachable_server_without_docker_fails_saying_what_to_start(
    monkeypatch, resolve, variable, scheme, hint
):
    resolve.cache_clear()
    monkeypatch.setenv(variable, f"{scheme}://127.0.0.1:{_closed_port()}/")
    monkeypatch.setattr(testing, "docker_engine", lambda: False)
    with pytest.raises(testing.ServiceUnavailable, match=hint):
        resolve()
    resolve.cache_clear()


def test_a_reachable_configured_server_is_used_as_given(monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"redis://127.0.0.1:{server.getsockname()[1]}/3"
        monkeypatch.setenv("TEST_REDIS_URL", url)
        testing.redis_url.cache_clear()
        assert testing.redis_url() == url
    testing.redis_url.cache_clear()
