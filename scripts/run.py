"""``make run``: the whole system on one machine, supervised together until Ctrl-C.

Migrates both databases, seeds demo data on the first start, then runs the Appstore API,
its relay, the Dashboard worker and the Dashboard API. Defaults are embedded (SQLite files
and logs under ./.data/, Dramatiq's in-process broker, an in-process cache); with the
variables of docs/configuration.md set (BROKER_URL, APPSTORE_DATABASE_URL,
DASHBOARD_DATABASE_URL, REDIS_URL) the same processes run on RabbitMQ, PostgreSQL and Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_WITHIN_SECONDS = 8
READY_WITHIN_SECONDS = 90
APPSTORE_PORT = 8000
DASHBOARD_PORT = 8001
#: Front-end dev servers (Vite, then Create React App / Next.js) whose pages may call the
#: Appstore API from the browser (CORS), unless APPSTORE_CORS_ORIGINS says otherwise.
DEV_ORIGINS = (
    "http://localhost:5173",
    "http://127.0.0.1:5173",
    "http://localhost:3000",
    "http://127.0.0.1:3000",
)


def main() -> int:
    os.chdir(ROOT)
    data = Path(os.environ.get("RUN_DATA_DIR", ROOT / ".data")).absolute()
    logs = data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = _environment(data)
    steps = (
        ("appstore", "db", "upgrade"),
        ("dashboard", "db", "upgrade"),
        ("appstore", "demo", "seed"),
    )
    for step in steps:
        print(f"$ {' '.join(step)}", flush=True)
        if subprocess.run([str(BIN / step[0]), *step[1:]], env=env).returncode:
            return 1

    commands = {
        "appstore-api": ("appstore", "serve", "--port", str(APPSTORE_PORT), "--workers", "2"),
        # Numbers the outbox for the event log API; with BROKER_URL set it also publishes
        # the events to RabbitMQ.
        "appstore-relay": ("appstore", "relay"),
        # Embedded: follows the event log into Dramatiq's in-process broker.
        "dashboard-worker": ("dashboard", "worker", "--threads", "16"),
        # Threads, not processes: each live page holds one for its event stream.
        "dashboard-api": (
            "dashboard", "serve", "--port", str(DASHBOARD_PORT), "--workers", "1",
            "--threads", "32",
        ),
    }  # fmt: skip
    processes = {}
    for name, (program, *args) in commands.items():
        with open(logs / f"{name}.log", "ab") as log:
            processes[name] = subprocess.Popen(
                [str(BIN / program), *args], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    ready = _wait_ready(processes, lambda: stopping, logs)
    if ready:
        _print_welcome(env, logs)
    while ready and not stopping:
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            print(f"{', '.join(dead)} stopped (see {logs}); stopping the rest", file=sys.stderr)
            break
        time.sleep(0.2)
    return _shutdown(processes, failed=not stopping)


def _environment(data: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DEMO_PASSWORD", "demo-password")
    env.setdefault("APPSTORE_DATA_DIR", str(data))
    env.setdefault("APPSTORE_DATABASE_URL", f"sqlite:///{data / 'appstore.db'}")
    env.setdefault("DASHBOARD_DATABASE_URL", f"sqlite:///{data / 'dashboard.db'}")
    env.setdefault("APPSTORE_URL", f"http://127.0.0.1:{APPSTORE_PORT}")
    # The demo seed creates this service account; the Dashboard reads the Appstore with it.
    env.setdefault("DASHBOARD_SERVICE_USERNAME", "service")
    env.setdefault("DASHBOARD_SERVICE_PASSWORD", env["DEMO_PASSWORD"])
    # Gap healing looks at the log often here, so a dashboard started late catches up fast.
    env.setdefault("DASHBOARD_SYNC_INTERVAL_SECONDS", "10")
    env.setdefault("APPSTORE_CORS_ORIGINS", ",".join(DEV_ORIGINS))
    return env


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_ready(processes, stopping, logs: Path) -> bool:
    urls = [
        f"http://127.0.0.1:{APPSTORE_PORT}/readyz",
        f"http://127.0.0.1:{DASHBOARD_PORT}/readyz",
    ]
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while not stopping():
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            print(f"{', '.join(dead)} failed to start; its log is in {logs}", file=sys.stderr)
            return False
        if all(_ready(url) for url in urls):
            return True
        if time.monotonic() > deadline:
            print(f"not ready after {READY_WITHIN_SECONDS} s; logs in {logs}", file=sys.stderr)
            return False
        time.sleep(0.3)
    return False


def _print_welcome(env: dict[str, str], logs: Path) -> None:
    password = env["DEMO_PASSWORD"]
    origins = ", ".join(o.strip() for o in env["APPSTORE_CORS_ORIGINS"].split(",") if o.strip())
    origins = origins or "no origin"
    print(
        "\nappstore-events is running:\n"
        f"  Dashboard        http://127.0.0.1:{DASHBOARD_PORT}/   "
        f"(sign in as manager / {password})\n"
        f"  Dashboard API    http://127.0.0.1:{DASHBOARD_PORT}/api/docs\n"
        f"  Appstore API     http://127.0.0.1:{APPSTORE_PORT}/api/docs\n"
        f"  Browsers may call it from (CORS, APPSTORE_CORS_ORIGINS): {origins}\n"
        f"  Accounts         admin, manager, service, dev0.., buyer0..; password {password!r}\n"
        "  Metrics          :8000/metrics, :8001/metrics, relay :9102, worker :9103\n"
        f"  Logs (JSON)      {logs}\n"
        "Ctrl-C stops everything; the data stays for the next `make run`.\n",
        flush=True,
    )


def _shutdown(processes: dict[str, subprocess.Popen], failed: bool) -> int:
    # SIGINT, as a terminal's Ctrl-C would send: each process's graceful shutdown.
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_WITHIN_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_tree(process)
    return 1 if failed else 0


def _kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL a process and everything it started: killing only a gunicorn master whose
    worker is slow to exit would leave that worker running on its own."""
    descendants = _descendants(process.pid)
    process.kill()
    for pid in descendants:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _descendants(root: int) -> list[int]:
    """The processes below ``root``, from /proc (none where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.parent.name))
    found, todo = [], list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


if __name__ == "__main__":
    sys.exit(main())
