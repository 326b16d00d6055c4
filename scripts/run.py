"""``make run``: migrate, seed demo data once, and run the services together until Ctrl-C.

Defaults are embedded (SQLite under ./.data/); set the variables of the README's
configuration table to run the same processes on PostgreSQL and RabbitMQ.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_WITHIN_SECONDS = 10


def _appstore(*args: str) -> list[str]:
    return [str(BIN / "appstore"), *args]


def main() -> int:
    os.chdir(ROOT)
    os.environ.setdefault("DEMO_PASSWORD", "demo-password")
    subprocess.run(_appstore("db", "upgrade"), check=True)
    subprocess.run(_appstore("demo", "seed"), check=True)

    processes = {
        "appstore-api": subprocess.Popen(
            _appstore("serve", "--host", "127.0.0.1", "--port", "8000", "--workers", "2")
        ),
        # Numbers the outbox, so the event log API serves every event; with BROKER_URL set
        # it also publishes them to RabbitMQ.
        "appstore-relay": subprocess.Popen(_appstore("relay")),
    }
    print(
        "\nRunning:\n"
        "  Appstore API   http://127.0.0.1:8000/api/docs  (OpenAPI: /api/openapi.json)\n"
        "  Relay metrics  http://127.0.0.1:9102/metrics\n"
        f"  Sign in as admin / manager / service with password {os.environ['DEMO_PASSWORD']!r}\n"
        "Ctrl-C stops everything.\n",
        flush=True,
    )
    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            print(f"{', '.join(dead)} stopped; stopping the rest", file=sys.stderr)
            break
        time.sleep(0.2)
    return _shutdown(processes, failed=not stopping)


def _shutdown(processes: dict[str, subprocess.Popen], failed: bool) -> int:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_WITHIN_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
