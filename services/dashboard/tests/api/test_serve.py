"""``dashboard serve``: gunicorn with gthread workers, where an open stream holds a thread
and leaves the others to requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from servicekit.api_docs_check import DOCS_PATHS, docs_problems
from servicekit.testing import ProcessGroup, ServerDidNotStart, free_port, wait_ready

DASHBOARD = Path(sys.executable).with_name("dashboard")
AT = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def served(postgres_stack, tmp_path):
    """``dashboard serve`` with one worker of four threads on the stack's database."""
    port = free_port()
    env = {
        **os.environ,
        "DASHBOARD_DATABASE_URL": postgres_stack.settings.database_url,
        "APPSTORE_URL": postgres_stack.appstore.url,
        "REDIS_URL": "",
        "LOG_ACCESS": "false",
        # Here rather than a directory of serve's own, which a killed server leaves behind.
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    log = (tmp_path / "serve.log").open("wb")
    server = ProcessGroup(
        [str(DASHBOARD), "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(base, path="/healthz", timeout=30, running=server.alive)
        except ServerDidNotStart as error:
            pytest.fail(f"{error}\n{(tmp_path / 'serve.log').read_text()}", pytrace=False)
        yield base
    finally:
        # Killed: a graceful stop would wait out gunicorn's graceful timeout for the streams
        # whose clients have gone but which have not written since.
        server.kill(timeout=30)
        log.close()


def summaries(response):
    for line in response.iter_lines(chunk_size=None):
        if line.startswith(b"data: "):
            yield json.loads(line[6:])


def test_streams_hold_threads_and_requests_still_get_answers(postgres_stack, served, log):
    token = postgres_stack.appstore.token("management")
    bearer = {"Authorization": f"Bearer {token}"}
    streams = [
        requests.get(
            f"{served}/api/v1/stream", params={"access_token": token}, stream=True, timeout=30
        )
        for _ in range(3)
    ]
    try:
        readers = [summaries(stream) for stream in streams]
        assert [next(reader)["purchases"] for reader in readers] == [0, 0, 0]

        # Three of the four threads stream; the fourth answers requests.
        answer = requests.get(f"{served}/api/v1/stats/summary", headers=bearer, timeout=10)
        assert answer.status_code == 200
        assert answer.headers["X-Request-ID"]

        postgres_stack.fold([log.purchased(1, 5, 9, 2, 30, AT)])
        assert [next(reader)["purchases"] for reader in readers] == [1, 1, 1]
    finally:
        for stream in streams:
            stream.close()
    metrics = requests.get(f"{served}/metrics", timeout=10).text
    assert 'dashboard_http_requests_total{endpoint="/api/v1/stats/summary"' in metrics


def test_api_docs_pages_load_every_script_and_stylesheet_from_the_dashboard(served):
    problems, fetched = docs_problems(served)

    assert problems == []
    assert {item.url.removeprefix(served) for item in fetched} == DOCS_PATHS
