"""CORS in a real browser: a page of a listed origin signs in and lists apps with ``fetch``;
the same page from an origin not listed is blocked by the browser.

Debian's Chromium (``/usr/bin/chromium``) driven by Playwright; the Appstore is the real
application served by werkzeug in a thread; each page comes from a static server of its
own, so the two origins differ by port.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from appstore.app import create_app

from ..conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
PAGE = "<!doctype html><title>front end</title><p>A front end of its own origin.</p>"
# Runs in the page: sign in, then list the catalogue with the token, as a front end would.
SIGN_IN_AND_LIST = """async ([api, username, password]) => {
    try {
        const signIn = await fetch(`${api}/api/v1/auth/token`, {
            method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({username, password}),
        });
        const {access_token} = await signIn.json();
        const listed = await fetch(`${api}/api/v1/apps/?page_size=5`, {
            headers: {"Authorization": `Bearer ${access_token}`, "Idempotency-Key": "k"},
        });
        return {
            status: listed.status,
            titles: (await listed.json()).map(app => app.title),
            pagination: listed.headers.get("X-Pagination"),
        };
    } catch (error) {
        return {blocked: String(error)};
    }
}"""


class Served(threading.Thread):
    def __init__(self, server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"

    def run(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.join(10)


@pytest.fixture
def front_end(tmp_path) -> Iterator[callable]:
    """``front_end()`` serves the page from a new origin and gives its URL."""
    (tmp_path / "index.html").write_text(PAGE)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    started: list[Served] = []

    def start() -> str:
        served = Served(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler))
        served.start()
        started.append(served)
        return served.url

    yield start
    for served in started:
        served.stop()


@pytest.fixture
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--disable-gpu", "--no-first-run"]
        )
        yield launched
        launched.close()


def test_a_listed_origin_signs_in_and_lists_apps_and_another_is_blocked(
    components, api, front_end, browser
):
    listed_origin, other_origin = front_end(), front_end()
    settings = dataclasses.replace(components.settings, cors_origins=(listed_origin,))
    appstore = Served(
        make_server(
            "127.0.0.1",
            0,
            create_app(components=dataclasses.replace(components, settings=settings)),
            threaded=True,
        )
    )
    appstore.start()
    owner, buyer = api.user(), api.user()
    api.app(owner, title="Visible from the front end")
    try:
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))

        page.goto(f"{listed_origin}/index.html")
        allowed = page.evaluate(SIGN_IN_AND_LIST, [appstore.url, buyer["username"], PASSWORD])
        assert allowed["status"] == 200
        assert allowed["titles"] == ["Visible from the front end"]
        assert '"total": 1' in allowed["pagination"]  # exposed to the page's script

        page.goto(f"{other_origin}/index.html")
        blocked = page.evaluate(SIGN_IN_AND_LIST, [appstore.url, buyer["username"], PASSWORD])
        assert "blocked" in blocked
        assert any("blocked by CORS policy" in text for text in console)
    finally:
        appstore.stop()
