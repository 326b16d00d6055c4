"""Transient errors are retried forever, event errors never."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from appstore_events import InvalidPayload, MalformedEvent, UnknownEventType
from dashboard.errors import MissingProgressRow
from dashboard.fold import UnfoldableEvent
from dashboard.worker.dead_letters import reason_for
from dashboard.worker.retry_policy import UNEXPECTED_ERROR_RETRIES, should_retry


def database_down() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("connection refused"))


def test_database_errors_and_timeouts_are_retried_however_often():
    for error in (database_down(), PoolTimeout("pool exhausted"), MissingProgressRow("x")):
        assert should_retry(0, error)
        assert should_retry(10_000, error)


def test_event_errors_are_never_retried():
    for error in (
        MalformedEvent("x"),
        UnknownEventType("x"),
        InvalidPayload("x"),
        UnfoldableEvent("x"),
    ):
        assert not should_retry(0, error)


def test_unexpected_errors_are_retried_a_few_times_then_dead_lettered():
    error = IntegrityError("INSERT", {}, Exception("bug"))
    assert should_retry(UNEXPECTED_ERROR_RETRIES - 1, error)
    assert not should_retry(UNEXPECTED_ERROR_RETRIES, error)
    assert should_retry(0, ValueError("x")) is not False


def test_dead_letter_reasons():
    assert reason_for(MalformedEvent("x")) == "malformed"
    assert reason_for(InvalidPayload("x")) == "invalid_payload"
    assert reason_for(UnfoldableEvent("x")) == "unfoldable"
    assert reason_for(ValueError("x")) == "error"
