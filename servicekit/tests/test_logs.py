"""JSON log lines: shape, bound fields, and what the Flask request hooks add."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
import structlog
from flask import Flask

from servicekit import http_metrics, logs, requests


@pytest.fixture
def lines(monkeypatch):
    """Configure JSON logging into a buffer; return a function reading the lines so far."""
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stdout", buffer)
    logs.configure("test-service")
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logs.clear()
    logging.getLogger().handlers.clear()


def test_every_record_is_one_json_object_with_the_standard_fields(lines):
    logging.getLogger("some.module").warning("disk %s full", "/data")
    (line,) = lines()
    assert line["message"] == "disk /data full"
    assert line["level"] == "warning"
    assert line["logger"] == "some.module"
    assert line["service"] == "test-service"
    assert line["timestamp"].endswith("Z")


def test_bound_fields_appear_on_lines_inside_the_block_only(lines):
    with logs.bound(event_id="e-1", sequence=7):
        logging.getLogger("fold").info("folded")
    logging.getLogger("fold").info("after")
    inside, after = lines()
    assert (inside["event_id"], inside["sequence"]) == ("e-1", 7)
    assert "event_id" not in after


def test_an_exception_is_rendered_into_the_same_line(lines):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("failed")
    (line,) = lines()
    assert "RuntimeError: boom" in line["exception"]


def test_an_unknown_level_name_is_refused(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        logs.logging_config("x")


def _app() -> Flask:
    app = Flask(__name__)
    requests.init_app(app)
    http_metrics.init_app(app, "kit_test")

    @app.get("/hello")
    def hello():
        logging.getLogger("handler").info("inside")
        return "hi"

    return app


def test_a_request_gets_an_id_on_its_lines_its_response_and_its_access_line(lines):
    response = _app().test_client().get("/hello")
    request_id = response.headers["X-Request-ID"]
    inside, access = lines()
    assert inside["request_id"] == access["request_id"] == request_id
    assert (access["method"], access["path"], access["status"]) == ("GET", "/hello", 200)
    assert access["duration_ms"] >= 0


def test_a_plain_caller_request_id_is_kept_and_a_strange_one_replaced(lines):
    client = _app().test_client()
    kept = client.get("/hello", headers={"X-Request-ID": "abc-123"})
    replaced = client.get("/hello", headers={"X-Request-ID": "no spaces; or <tags>"})
    assert kept.headers["X-Request-ID"] == "abc-123"
    assert replaced.headers["X-Request-ID"] != "no spaces; or <tags>"
    assert len(replaced.headers["X-Request-ID"]) == 32


def test_metrics_count_requests_by_rule_and_status(lines):
    client = _app().test_client()
    client.get("/hello")
    client.get("/missing")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'kit_test_http_requests_total{endpoint="/hello",method="GET",status="200"}' in text
    assert 'endpoint="<unmatched>",method="GET",status="404"' in text


def _structlog_formatter() -> logging.Formatter:
    """The chain of structlog processors whose lines :class:`logs.JSONFormatter` writes."""

    def add_service(_logger, _method, event_dict):
        event_dict.setdefault("service", "test-service")
        return event_dict

    def rename_message(_logger, _method, event_dict):
        event_dict["message"] = event_dict.pop("event", "")
        return event_dict

    def render(event_dict, **_options):
        return logs._ENCODER.encode(event_dict)

    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            add_service,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            rename_message,
            structlog.processors.JSONRenderer(serializer=render),
        ],
    )


def _records():
    def record(level=logging.INFO, msg="plain", args=(), **attributes):
        made = logging.LogRecord("some.module", level, __file__, 1, msg, args, None)
        made.__dict__.update(attributes)
        return made

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failure = sys.exc_info()
    yield "plain", record()
    yield "args", record(logging.WARNING, "disk %s at %d%%", ("/data", 93))
    yield "extra", record(method="GET", path="/x", status=200, duration_ms=1.5, obj=object)
    yield "extra named like a field", record(level="odd", service="mine", event="e")
    yield "exception", record(logging.ERROR, exc_info=failure)
    yield "stack", record(stack_info="Stack (most recent call last):\n  here")
    yield "custom level", record(logging.INFO + 1)
    yield "not ascii", record(msg="naïve ☃ \ud800")


@pytest.mark.parametrize(("name", "record"), list(_records()))
def test_the_formatter_writes_structlogs_line(name, record):
    logs.logging_config("test-service")
    with logs.bound(request_id="r-1", sequence=3, logger="bound wins not"):
        ours = json.loads(logs.JSONFormatter().format(record))
        theirs = json.loads(_structlog_formatter().format(record))
    assert ours.pop("timestamp")[:16] == theirs.pop("timestamp")[:16]
    assert list(ours.items()) == list(theirs.items())
