"""The pipeline benchmark's processes: started and stopped as process groups, and their CPU
time and memory read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from servicekit.testing import ProcessGroup


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APPSTORE_", "DASHBOARD_"))}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def start(command: list[str], env: dict[str, str], log: Path) -> ProcessGroup:
    with log.open("ab") as out:
        return ProcessGroup(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: ProcessGroup, grace: float = 30) -> None:
    """SIGTERM to the main process (it shuts its forks down), then SIGKILL to the group."""
    process.stop(signal.SIGTERM, timeout=grace, group=False, sweep=True)


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def cpu_seconds(root: int, *, tree: bool = True) -> float:
    """CPU time (user + system) used so far by ``root`` and (``tree``) the processes it
    started; 0 for a process that has ended."""
    ticks = 0
    for pid in process_tree(root) if tree else [root]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """``(busy, total)`` CPU ticks of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return sum(values) - idle, sum(values)


def memory_of(pid: int) -> tuple[int, int] | None:
    """``(RSS, PSS)`` of a process in bytes; None if it has ended.

    PSS splits each page shared by the forks among them, so summed over the processes it
    is the memory they really take; summed RSS counts the pages they share once each.
    """
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    sizes = {line.split()[0]: int(line.split()[1]) * 1024 for line in rollup[1:]}
    return sizes["Rss:"], sizes["Pss:"]


@dataclass
class MemorySamples:
    """Memory of the worker's processes, sampled while events flow."""

    rss_totals: list[int] = field(default_factory=list)
    pss_totals: list[int] = field(default_factory=list)
    largest: list[int] = field(default_factory=list)
    processes: int = 0

    def take(self, root: int) -> None:
        sizes = [size for pid in process_tree(root) if (size := memory_of(pid))]
        if sizes:
            self.rss_totals.append(sum(rss for rss, _ in sizes))
            self.pss_totals.append(sum(pss for _, pss in sizes))
            self.largest.append(max(rss for rss, _ in sizes))
            self.processes = max(self.processes, len(sizes))
