"""``servicekit.server.serve``: the factory under gunicorn, every line JSON, one access line
per request, a quit that cannot hang; and ``servicekit.testing.serving``, which runs it for
the tests."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from servicekit.server import QuittingThreadWorker
from servicekit.testing import ServerDidNotStart, free_port, serving, wait_ready

HERE = Path(__file__).resolve().parent
SERVE = """
import sys
from servicekit.server import serve
serve("served_app:create", service="kit-test", host="127.0.0.1", port=int(sys.argv[1]),
      workers=1, threads=2)
"""


@pytest.fixture
def served(tmp_path):
    """The test factory served by gunicorn; yields its URL and a reader of its output."""
    port = free_port()
    output = tmp_path / "serve.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        "LOG_ACCESS": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    base = f"http://127.0.0.1:{port}"
    with serving([sys.executable, "-c", SERVE, str(port)], env, base, output):
        yield base, output.read_text


def test_a_server_that_exits_is_reported_with_its_output(tmp_path):
    command = [sys.executable, "-c", "print('no such server'); raise SystemExit(3)"]
    with (
        pytest.raises(ServerDidNotStart, match="exited with 3:\nno such server"),
        serving(command, os.environ, f"http://127.0.0.1:{free_port()}", tmp_path / "log"),
    ):
        pass


def test_every_line_is_json_and_each_request_has_one_access_line(served):
    base, output = served
    ids = [requests.get(f"{base}/hello", timeout=5).headers["X-Request-ID"] for _ in range(3)]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in output().splitlines()]
        hello = [line for line in lines if line["logger"] == "access" and line["path"] == "/hello"]
        if len(hello) >= len(ids):
            break
        time.sleep(0.05)
    assert [line["request_id"] for line in hello] == ids
    assert all(line["service"] == "kit-test" for line in lines)
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # gunicorn's own, as JSON


def test_a_long_query_string_reaches_the_application(served):
    # gunicorn's default would answer an HTML 414 past 4 KB, before the API could judge it.
    base, _ = served
    response = requests.get(f"{base}/hello", params={"q": "x" * 20_000}, timeout=5)
    assert (response.status_code, response.text) == (200, "hi")


def test_a_quit_signal_inside_a_thread_pool_submission_still_quits():
    # The signal lands while the main thread holds the pool's lock in submit(); gunicorn's
    # own gthread handler would wait for that lock forever.
    worker = object.__new__(QuittingThreadWorker)
    worker.cfg = SimpleNamespace(worker_int=lambda _worker: None)
    worker.tpool = ThreadPoolExecutor(1)
    outcome = []

    def signalled() -> None:
        with worker.tpool._shutdown_lock:
            try:
                worker.handle_quit(signal.SIGQUIT, None)
            except SystemExit as exit_:
                outcome.append(exit_.code)

    handler = threading.Thread(target=signalled, daemon=True)
    handler.start()
    handler.join(timeout=5)
    assert outcome == [0], "the quit handler hung on the thread pool's lock"
    assert worker.alive is False


def test_wait_ready_says_whether_the_server_exited_or_never_answered():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServerDidNotStart, match="exited before it answered /readyz"):
        wait_ready(url, timeout=5, running=lambda: False)
    with pytest.raises(ServerDidNotStart, match=r"/healthz did not answer within 0.3 s"):
        wait_ready(url, path="/healthz", timeout=0.3)
