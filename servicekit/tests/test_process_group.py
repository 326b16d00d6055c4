"""A command and everything it starts, stopped and killed as one process group."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from servicekit.testing import ProcessGroup

# A parent that starts a child sleeping in the same group, prints the child's pid, and
# then sleeps itself; with "ignore", the parent ignores SIGTERM.
PARENT = """
import signal, subprocess, sys, time
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def started(mode: str = "plain") -> tuple[ProcessGroup, int]:
    group = ProcessGroup([sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True)
    child = int(group.process.stdout.readline())
    return group, child


def ended(group: ProcessGroup, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while group.group_alive():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_command_runs_in_a_group_of_its_own_with_what_it_starts():
    group, child = started()
    try:
        assert group.alive()
        assert group.group_alive()
        assert child != group.pid
        with open(f"/proc/{child}/stat") as stat:
            assert int(stat.read().rsplit(")", 1)[1].split()[2]) == group.pid
    finally:
        group.kill()


def test_stop_signals_the_whole_group():
    group, _child = started()
    assert group.stop(signal.SIGTERM, timeout=10)
    assert group.returncode == -signal.SIGTERM
    assert ended(group)


def test_a_stop_to_the_main_process_alone_leaves_its_child_unless_swept():
    group, _child = started()
    assert group.stop(timeout=10, group=False)
    assert group.group_alive()  # the child was not signalled
    group.kill()
    assert ended(group)

    swept, _child = started()
    assert swept.stop(timeout=10, group=False, sweep=True)
    assert ended(swept)


def test_a_group_that_ignores_the_signal_is_killed_after_the_timeout():
    group, _child = started("ignore")
    began = time.monotonic()
    assert not group.stop(signal.SIGTERM, timeout=0.5)
    assert time.monotonic() - began < 5
    assert group.returncode == -signal.SIGKILL
    assert ended(group)


def test_signalling_stopping_and_killing_an_ended_group_is_no_error():
    group = ProcessGroup([sys.executable, "-c", "pass"])
    assert group.wait(10)
    assert not group.alive()
    assert group.returncode == 0
    group.send_signal(signal.SIGTERM)
    assert group.stop()
    group.kill()
    assert not group.group_alive()
