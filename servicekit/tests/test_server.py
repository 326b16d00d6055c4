"""``servicekit.server.serve``: the factory under gunicorn, every line JSON, one access line
per request."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
SERVE = """
import sys
from servicekit.server import serve
serve("served_app:create", service="kit-test", host="127.0.0.1", port=int(sys.argv[1]),
      workers=1, threads=2)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """The test factory served by gunicorn; yields its URL and a reader of its output."""
    port = free_port()
    output = tmp_path / "serve.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "LOG_ACCESS": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(port)], env=env, stdout=sink, stderr=sink
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                pytest.fail(output.read_text(), pytrace=False)
            try:
                requests.get(f"{base}/hello", headers={"X-Request-ID": "warm-up"}, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield base, lambda: output.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_every_line_is_json_and_each_request_has_one_access_line(served):
    base, output = served
    ids = [requests.get(f"{base}/hello", timeout=5).headers["X-Request-ID"] for _ in range(3)]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in output().splitlines()]
        access = [line for line in lines if line["logger"] == "access"]
        if len(access) >= 4:
            break
        time.sleep(0.05)
    assert [line["request_id"] for line in access] == ["warm-up", *ids]
    assert all(line["service"] == "kit-test" for line in lines)
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # gunicorn's own, as JSON
