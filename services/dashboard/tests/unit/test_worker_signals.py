"""Signals sent only to the middleware that handle them, as Dramatiq would send them."""

from __future__ import annotations

import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, SkipMessage

from dashboard.worker.signals import DirectSignals


class Recording(Middleware):
    def __init__(self, name: str, calls: list) -> None:
        self.name, self.calls = name, calls

    def before_process_message(self, broker, message):
        self.calls.append(("before", self.name, message))

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self.calls.append(("after", self.name, message, result))


class AfterOnly(Middleware):
    def __init__(self, calls: list) -> None:
        self.calls = calls

    def after_ack(self, broker, message):
        self.calls.append(("after_ack", message))


class Failing(Middleware):
    def before_process_message(self, broker, message):
        raise RuntimeError("broken middleware")

    def after_process_message(self, broker, message, *, result=None, exception=None):
        raise RuntimeError("broken middleware")


class Skipping(Middleware):
    def before_process_message(self, broker, message):
        raise SkipMessage


class DirectBroker(DirectSignals, StubBroker):
    pass


def _brokers(make_middleware):
    """Dramatiq's own broker and the direct one, each with its own middleware."""
    plain_calls, direct_calls = [], []
    plain = StubBroker(middleware=make_middleware(plain_calls))
    direct = DirectBroker(middleware=make_middleware(direct_calls))
    return (plain, plain_calls), (direct, direct_calls)


def _chain(calls):
    return [Recording("a", calls), AfterOnly(calls), Failing(), Recording("b", calls)]


def test_the_direct_broker_calls_exactly_what_dramatiq_calls():
    results = []
    for broker, calls in _brokers(_chain):
        broker.emit_before("process_message", "m")
        broker.emit_after("process_message", "m", result=1)
        broker.emit_before("ack", "m")
        broker.emit_after("ack", "m")
        results.append(calls)

    plain, direct = results
    assert direct == plain
    assert direct == [
        ("before", "a", "m"),
        ("before", "b", "m"),
        ("after", "b", "m", 1),
        ("after", "a", "m", 1),
        ("after_ack", "m"),
    ]


def test_a_failing_hook_is_logged_and_a_skip_still_stops_the_message(caplog):
    broker = DirectBroker(middleware=[Failing(), Skipping()])

    broker.emit_after("process_message", "m")
    assert "Unexpected failure in after_process_message" in caplog.text
    with pytest.raises(SkipMessage):
        broker.emit_before("process_message", "m")


def test_middleware_added_later_gets_the_signals_too():
    calls = []
    broker = DirectBroker(middleware=[Recording("a", calls)])
    broker.emit_before("process_message", "first")

    broker.add_middleware(Recording("b", calls))
    broker.emit_before("process_message", "second")

    assert calls == [
        ("before", "a", "first"),
        ("before", "a", "second"),
        ("before", "b", "second"),
    ]
