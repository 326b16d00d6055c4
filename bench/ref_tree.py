"""Another git revision of this repository, checked out beside it for a side-by-side run.

The services run from source: a revision's packages are put first on ``PYTHONPATH`` in the
same virtual environment, so both sides share every third-party package and differ only in
the project's own code.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    "events/src",
    "sqlstore/src",
    "servicekit/src",
    "services/appstore/src",
    "services/dashboard/src",
)


def python_path(tree: Path) -> str:
    """The ``PYTHONPATH`` that runs the project's packages from ``tree``."""
    return os.pathsep.join(str(tree / source) for source in SOURCES)


def environment(tree: Path) -> dict[str, str]:
    """This process's environment with ``tree``'s packages first on the path."""
    return {**os.environ, "PYTHONPATH": python_path(tree)}


def describe(ref: str = "HEAD") -> str:
    """``ref`` as a short commit id, with ``+`` when it is HEAD and the tree has changes."""
    commit = _git("rev-parse", "--short", ref)
    if ref == "HEAD" and _git("status", "--porcelain", "--untracked-files=no"):
        commit += "+"
    return commit


@contextmanager
def checked_out(ref: str) -> Iterator[Path]:
    """Yield a temporary detached worktree of ``ref``; remove it afterwards.

    Raises:
        SystemExit: ``ref`` names no commit.
    """
    try:
        _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"{ref!r} names no commit of {ROOT}") from None
    path = Path(tempfile.mkdtemp(prefix="bench-ref-")) / "tree"
    _git("worktree", "add", "--detach", "--quiet", str(path), ref)
    try:
        yield path
    finally:
        _git("worktree", "remove", "--force", str(path))


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()
