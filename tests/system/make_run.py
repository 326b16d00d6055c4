"""Driving ``make run`` as a newcomer would: in the background, then probing."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from servicekit.testing import ProcessGroup

ROOT = Path(__file__).resolve().parents[2]
APPSTORE = "http://127.0.0.1:8000"
DASHBOARD = "http://127.0.0.1:8001"
PORTS = (8000, 8001, 9102, 9103)
# The first start installs nothing (make test made the venv) but migrates and seeds.
READY_SECONDS = 180
STOP_SECONDS = 10
PASSWORD = "system-test-password"


class MakeRun:
    """One ``make run`` in its own process group, as a terminal would start it."""

    def __init__(self, env: dict[str, str], output: Path) -> None:
        self.env = env
        self.output = output
        self.group: ProcessGroup | None = None

    def start(self) -> None:
        busy = [port for port in PORTS if _listening(port)]
        if busy:
            pytest.fail(f"ports {busy} are taken: stop what listens there to run this test")
        with open(self.output, "ab") as log:
            self.group = ProcessGroup(
                ["make", "--no-print-directory", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_SECONDS
        while not (_ready(APPSTORE) and _ready(DASHBOARD)):
            if not self.group.alive():
                self.fail(f"make run exited with {self.group.returncode} before it was ready")
            if time.monotonic() > deadline:
                self.fail(f"not ready after {READY_SECONDS} s")
            time.sleep(0.5)
        # Ready is printed just after both answer.
        while "Ctrl-C stops everything" not in self.printed():
            if time.monotonic() > deadline:
                self.fail("no welcome text")
            time.sleep(0.1)

    def interrupt(self) -> float:
        """Ctrl-C: SIGINT to the whole group; return the seconds until every process ended."""
        assert self.group is not None
        began = time.monotonic()
        self.group.send_signal(signal.SIGINT)
        if not self.group.wait(STOP_SECONDS + 5):
            self.kill()
            self.fail("make run did not exit after Ctrl-C")
        while self.group.group_alive():
            if time.monotonic() - began > STOP_SECONDS + 5:
                self.kill()
                self.fail("processes of make run outlived it")
            time.sleep(0.05)
        return time.monotonic() - began

    def kill(self) -> None:
        if self.group is not None and self.group.group_alive():
            self.group.send_signal(signal.SIGKILL)

    def printed(self) -> str:
        return self.output.read_text(errors="replace")

    def fail(self, message: str) -> None:
        logs = Path(self.env["RUN_DATA_DIR"]) / "logs"
        tails = []
        for log in sorted(logs.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            tails.append(f"--- {log.name}\n" + "\n".join(lines))
        self.kill()
        pytest.fail(f"{message}\n--- make run\n{self.printed()[-3000:]}\n" + "\n".join(tails))


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
