"""JSON log lines: shape, bound fields, and what the Flask request hooks add."""

from __future__ import annotations

import io
import json
import logging

import pytest
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
