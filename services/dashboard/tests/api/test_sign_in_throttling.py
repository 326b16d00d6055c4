"""Signing in through the Dashboard meets the Appstore's throttling as the Appstore answers
it: 429 with ``Retry-After``, passed on to the page."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from appstore.app import create_app as create_appstore
from appstore.bootstrap import bootstrap as bootstrap_appstore
from appstore.config import Settings as AppstoreSettings
from appstore.migrations import upgrade as upgrade_appstore
from appstore.services import users

TOKEN = "/api/v1/auth/token"
PASSWORD = "correct horse battery"


def test_the_appstores_429_reaches_the_page_with_retry_after(make_stack, tmp_path):
    url = f"sqlite:///{tmp_path / 'appstore.db'}"
    upgrade_appstore(url)
    settings = AppstoreSettings(
        database_url=url, data_dir=tmp_path, password_profile="cheapest", signin_limit="2/minute"
    )
    parts = bootstrap_appstore(settings)
    users.register(parts.db, parts.passwords, "manager", "m@example.com", PASSWORD, "management")
    server = make_server("127.0.0.1", 0, create_appstore(components=parts), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stack = make_stack(
            "postgres", "memory", appstore_url=f"http://127.0.0.1:{server.server_port}"
        )
        wrong = {"username": "manager", "password": "wrong password"}
        statuses = [stack.client.post(TOKEN, json=wrong).status_code for _ in range(2)]
        refused = stack.client.post(TOKEN, json={"username": "manager", "password": PASSWORD})
    finally:
        server.shutdown()
        thread.join()
        parts.db.dispose()

    assert statuses == [401, 401]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json["code"] == 429
