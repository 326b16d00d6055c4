"""The Dashboard's client of the Appstore API: a service account reading the event log."""

from __future__ import annotations

import json
from collections.abc import Iterator

import requests

from dashboard.errors import AppstoreUnavailable

#: The Appstore's response header with the highest sequence of its log.
LOG_HEAD_HEADER = "X-Log-Head"
#: The highest sequence the log's ``after`` accepts.
LAST_SEQUENCE = 2**63 - 1


class AppstoreClient:
    """Signs in with the service account once, and again when the token is refused.

    Parameters:
        base_url: the Appstore, e.g. ``http://127.0.0.1:8000``.
        username, password: an account with role ``service`` (or ``admin``).
        timeout: seconds for connecting and for each answer.
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._timeout = timeout
        self._token: str | None = None
        self._http = requests.Session()

    def events(self, after: int, limit: int = 1000) -> list[dict]:
        """Envelopes with ``sequence > after`` from ``GET /api/v1/events/``, in order."""
        return self.events_and_head(after, limit)[0]

    def events_and_head(self, after: int, limit: int = 1000) -> tuple[list[dict], int]:
        """As :meth:`events`, with the log's head: the highest sequence it has given."""
        answer = self._get("/api/v1/events/", {"after": after, "limit": limit})
        page = answer.json()
        head = answer.headers.get(LOG_HEAD_HEADER)
        if head is None:  # an Appstore from before the header: the page's end is all we know
            return page, page[-1]["sequence"] if page else after
        return page, int(head)

    def log_head(self) -> int:
        """The highest sequence of the log: one read of an empty page past any sequence.

        Raises:
            AppstoreUnavailable: no answer, or one without the head.
        """
        answer = self._get("/api/v1/events/", {"after": LAST_SEQUENCE, "limit": 1})
        head = answer.headers.get(LOG_HEAD_HEADER)
        if head is None:
            raise AppstoreUnavailable(f"GET /api/v1/events/ answered without {LOG_HEAD_HEADER}")
        return int(head)

    def totals(self) -> dict[str, int]:
        """The Appstore's own all-time totals (``GET /api/v1/reports/totals``)."""
        return self._get("/api/v1/reports/totals", {}).json()

    def app_figures(self, page_size: int = 1000) -> Iterator[dict]:
        """Every app with its purchases and revenue, page after page, by id."""
        page = 1
        while True:
            answer = self._get("/api/v1/reports/apps", {"page": page, "page_size": page_size})
            yield from answer.json()
            pages = json.loads(answer.headers.get("X-Pagination", "{}")).get("total_pages", 0)
            if page >= pages:
                return
            page += 1

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: dict) -> requests.Response:
        for attempt in range(2):
            if self._token is None:
                self._token = self._sign_in()
            answer = self._call("GET", path, params=params, headers=self._auth())
            if answer.status_code == 401 and attempt == 0:  # expired: sign in again
                self._token = None
                continue
            if answer.status_code != 200:
                raise AppstoreUnavailable(
                    f"GET {path} answered {answer.status_code}: {answer.text}"
                )
            return answer
        raise AppstoreUnavailable(f"GET {path}: the new token was refused too")

    def _sign_in(self) -> str:
        answer = self._call("POST", "/api/v1/auth/token", json=self._credentials)
        if answer.status_code != 200:
            raise AppstoreUnavailable(
                f"signing in as {self._credentials['username']!r} answered "
                f"{answer.status_code}: {answer.text}"
            )
        return answer.json()["access_token"]

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self._token}"}

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self._http.request(method, self.base_url + path, timeout=self._timeout, **kwargs)
        except requests.RequestException as error:
            raise AppstoreUnavailable(f"{method} {self.base_url}{path} failed: {error}") from error
