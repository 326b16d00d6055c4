"""Probes, metrics, the OpenAPI document and the page's place in the app."""

from __future__ import annotations

import pytest

from dashboard.stats.reading import Reader
from sqlstore import Database

#: A PostgreSQL where nothing listens.
DOWN = "postgresql://postgres@127.0.0.1:9/dashboard"
STATS = ["summary", "timeseries", "top-apps", "top-developers", "export.csv"]


def test_healthz_and_readyz_answer_when_all_is_up(stack):
    assert stack.client.get("/healthz").json == {"status": "ok"}
    ready = stack.client.get("/readyz")
    assert ready.status_code == 200
    expected = {"database": "ok", "redis": "ok"} if stack.settings.redis_url else {"database": "ok"}
    assert ready.json == {"status": "ok", "checks": expected}


def test_readyz_names_a_database_that_is_down(make_stack):
    stack = make_stack("postgres", "memory")
    stack.parts.db = Database(DOWN)

    ready = stack.client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json["checks"]["database"].startswith("down: OperationalError")


def test_stats_are_503_while_the_database_is_down(make_stack):
    stack = make_stack("postgres", "memory")
    stack.parts.reader = Reader(Database(DOWN))

    response = stack.get("/api/v1/stats/summary")

    assert response.status_code == 503
    assert response.json["message"] == "Database unavailable."


def test_metrics_count_requests_by_endpoint_and_cache_results(postgres_stack):
    postgres_stack.ok("/api/v1/stats/summary")
    postgres_stack.ok("/api/v1/stats/summary")

    text = postgres_stack.client.get("/metrics").get_data(as_text=True)

    assert 'dashboard_cache_requests_total{result="hit"}' in text
    assert 'dashboard_cache_requests_total{result="miss"}' in text
    assert (
        'dashboard_http_request_duration_seconds_count{endpoint="/api/v1/stats/summary",'
        'method="GET",status="200"}' in text
    )


def test_the_openapi_document_describes_every_endpoint(postgres_stack):
    spec = postgres_stack.client.get("/api/openapi.json").json
    paths = spec["paths"]

    for name in STATS:
        operation = paths[f"/api/v1/stats/{name}"]["get"]
        assert operation["security"] == [{"bearerAuth": []}]
        assert {"401", "403"} <= set(operation["responses"])
    series = {p["name"] for p in paths["/api/v1/stats/timeseries"]["get"]["parameters"]}
    assert series >= {"metric", "bucket", "from", "to", "tz"}
    assert "text/event-stream" in paths["/api/v1/stream"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in paths["/api/v1/stats/export.csv"]["get"]["responses"]["200"]["content"]
    assert "/api/v1/auth/token" in paths
    assert "widened" in spec["info"]["description"]


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_the_api_documentation_pages_are_served(postgres_stack, path):
    assert postgres_stack.client.get(path).status_code == 200


def test_the_page_is_served_at_the_root(postgres_stack):
    assert postgres_stack.client.get("/").status_code == 200
