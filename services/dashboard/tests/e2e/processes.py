"""The pipeline's long-running processes, each a process group of its own with its output in
a log file."""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from servicekit.testing import ProcessGroup

LOG_TAIL_LINES = 60


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Service:
    """A long-running subprocess in its own process group, its output in a log file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    group: ProcessGroup | None = None

    def start(self) -> Service:
        with self.log_path.open("ab") as out:
            self.group = ProcessGroup(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    @property
    def alive(self) -> bool:
        return self.group is not None and self.group.alive()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, grace: float = 20) -> None:
        """SIGTERM to the main process (it shuts its children down), SIGKILL after ``grace``;
        then SIGKILL to the group for anything it left behind."""
        if not self.alive:
            return
        self.group.stop(signal.SIGTERM, timeout=grace, group=False, sweep=True)

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown."""
        self.group.kill()

    def describe(self) -> str:
        state = "running" if self.alive else f"exited {self.group.returncode}"
        heading = f"--- {self.name} ({state}), last lines of {self.log_path} ---"
        return f"{heading}\n{tail(self.log_path)}"
