"""Make sure the Appstore has the Dashboard's service account; safe to run on every start.

`appstore users create` refuses a username that is taken (exit 1), so a plain retry of it
cannot tell "already made" from "someone else's account". This signs in with the account's
credentials first, through the Appstore's own API:

- signed in, role ``service``: nothing to do;
- signed in, another role: fail, since the Dashboard would be refused the event log;
- refused (401): create it with ``appstore users create``. If the name is taken by an
  account with another password, that fails too, with the Appstore's message.

Run by the ``appstore-service-account`` one-shot service of docker-compose.yml, in the
Appstore's image, after the API is ready. Reads APPSTORE_URL, DASHBOARD_SERVICE_USERNAME and
DASHBOARD_SERVICE_PASSWORD, and APPSTORE_WAIT_SECONDS (default 60): how long to keep trying
an Appstore that does not answer (one restarting, say). Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROLE = "service"
TIMEOUT_SECONDS = 10


def signed_in_role(appstore_url: str, username: str, password: str) -> str | None:
    """The role of the account these credentials sign in to, or None when refused (401)."""
    request = urllib.request.Request(
        f"{appstore_url}/api/v1/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            token = json.load(response)["access_token"]
    except urllib.error.HTTPError as error:
        if error.code == 401:
            return None
        raise
    me = urllib.request.Request(
        f"{appstore_url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(me, timeout=TIMEOUT_SECONDS) as response:
        return json.load(response)["role"]


def signed_in_role_when_up(appstore_url: str, username: str, password: str, wait: float):
    """``signed_in_role``, retried for ``wait`` seconds while the Appstore is not up.

    Not up: unreachable, or answering 502/503/504 (its database restarting, say).

    Raises:
        urllib.error.URLError: the Appstore is still not up, or refused the request.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            return signed_in_role(appstore_url, username, password)
        except urllib.error.HTTPError as error:
            if error.code not in (502, 503, 504) or time.monotonic() >= deadline:
                raise
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() >= deadline:
                raise
        time.sleep(1)


def main() -> int:
    appstore_url = os.environ.get("APPSTORE_URL", "http://appstore-api:8000").rstrip("/")
    username = os.environ.get("DASHBOARD_SERVICE_USERNAME", "")
    password = os.environ.get("DASHBOARD_SERVICE_PASSWORD", "")
    if not (username and password):
        print(
            "error: set DASHBOARD_SERVICE_USERNAME and DASHBOARD_SERVICE_PASSWORD", file=sys.stderr
        )
        return 2
    wait = float(os.environ.get("APPSTORE_WAIT_SECONDS", "60"))
    try:
        role = signed_in_role_when_up(appstore_url, username, password, wait)
    except urllib.error.HTTPError as error:
        print(f"error: the Appstore answered {error.code} at {error.url}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, ConnectionError) as error:
        print(f"error: cannot reach the Appstore at {appstore_url}: {error}", file=sys.stderr)
        return 1
    if role == ROLE:
        print(f"service account {username!r} already exists")
        return 0
    if role is not None:
        print(f"error: account {username!r} has role {role!r}, not {ROLE!r}", file=sys.stderr)
        return 1
    command = ["appstore", "users", "create", "--username", username, "--role", ROLE]
    return subprocess.run([*command, "--password", password], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
