"""The served Appstore's REST API, as the workload's clients call it."""

from __future__ import annotations

import threading

import requests

from .pipeline import PASSWORD, Pipeline


class Api:
    """The served Appstore's REST API; one ``requests`` session per thread."""

    def __init__(self, base_url: str, pipeline: Pipeline) -> None:
        self.base_url = base_url
        self.pipeline = pipeline
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def call(self, method: str, path: str, token=None, expect=(200,), **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.session.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs
        )
        if response.status_code not in expect:
            self.pipeline.fail(
                f"{method} {path} answered {response.status_code} (expected {expect}): "
                f"{response.text[:500]}"
            )
        return response

    def token(self, username: str) -> str:
        body = {"username": username, "password": PASSWORD}
        return self.call("POST", "/api/v1/auth/token", json=body).json()["access_token"]

    def register(self, username: str) -> int:
        body = {"username": username, "email": f"{username}@e2e.example", "password": PASSWORD}
        return self.call("POST", "/api/v1/auth/register", json=body, expect=(201,)).json()["id"]

    def grant(self, admin: str, user_id: int, amount: int) -> None:
        self.call("POST", f"/api/v1/users/{user_id}/credit", admin, json={"amount": amount})

    def create_app(self, token: str, title: str, price: int) -> int:
        body = {
            "title": title,
            "description": f"{title}, made for the end-to-end tests",
            "price": price,
            "access_link": "https://apps.e2e.example/launch",
        }
        return self.call("POST", "/api/v1/apps/", token, json=body, expect=(201,)).json()["id"]

    def verify(self, admin: str, app_id: int) -> None:
        self.call("POST", f"/api/v1/apps/{app_id}/verify", admin)

    def purchase(self, token: str, app_id: int) -> requests.Response:
        return self.call("POST", f"/api/v1/apps/{app_id}/purchase", token, expect=(201, 402, 409))
