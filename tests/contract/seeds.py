"""The seeds of a contract run: a fixed one, the same on every run, and a fresh one
(``CONTRACT_SEED`` replays a run's fresh seed)."""

from __future__ import annotations

import os
import secrets

FIXED_SEED = 20261206
FRESH_SEED = int(os.environ.get("CONTRACT_SEED") or secrets.randbelow(2**31))
