"""For tests: fetch a served service's API docs pages and everything they load, and say
what does not come from the service's own host."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

#: The pages :func:`docs_problems` checks, under the service's base URL.
PAGES = ("/api/docs", "/api/redoc")
#: Every path a docs check fetches from a service: the two pages and the assets they load.
DOCS_PATHS = {
    *PAGES,
    "/api/docs/assets/swagger-ui/swagger-ui.css",
    "/api/docs/assets/swagger-ui/swagger-ui-standalone-preset.js",
    "/api/docs/assets/swagger-ui/swagger-ui-bundle.js",
    "/api/docs/assets/redoc/redoc.standalone.js",
}
CONTENT_TYPES = {
    "script": ("text/javascript", "application/javascript"),
    "stylesheet": ("text/css",),
}


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: str


class _References(HTMLParser):
    """The scripts (``<script src>``) and stylesheets (``<link rel=stylesheet href>``)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.found.append(("script", attributes["src"]))
        rel = (attributes.get("rel") or "").lower().split()
        if tag == "link" and "stylesheet" in rel and attributes.get("href"):
            self.found.append(("stylesheet", attributes["href"]))


def fetch(url: str, timeout: float = 10.0) -> Fetched:
    """GET ``url``; an HTTP error status is an answer, not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            status, headers, raw = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    return Fetched(url, status, content_type, raw.decode("utf-8", "replace"))


def references(html: str) -> list[tuple[str, str]]:
    """``(kind, url)`` of every script and stylesheet ``html`` loads, as written."""
    parser = _References()
    parser.feed(html)
    return parser.found


def docs_problems(base_url: str) -> tuple[list[str], list[Fetched]]:
    """Fetch both docs pages of the service at ``base_url`` and every script and stylesheet
    they reference.

    Parameters:
        base_url: the service's root, e.g. ``http://127.0.0.1:8000``.

    Returns:
        What is wrong (empty when all is well: every page and asset answers 200 from the
        service's own origin with a fitting content type), and every page and asset fetched.
    """
    origin = urlsplit(base_url)[:2]
    problems: list[str] = []
    fetched: list[Fetched] = []
    for path in PAGES:
        page = fetch(urljoin(base_url, path))
        fetched.append(page)
        if page.status != 200 or page.content_type != "text/html":
            problems.append(f"{path}: {page.status} {page.content_type}")
            continue
        found = references(page.body)
        if not found:
            problems.append(f"{path}: references no script or stylesheet")
        for kind, reference in found:
            url = urljoin(page.url, reference)
            if urlsplit(url)[:2] != origin:
                problems.append(f"{path}: {kind} {reference} is not from {base_url}")
                continue
            asset = fetch(url)
            fetched.append(asset)
            if asset.status != 200:
                problems.append(
                    f"{path}: {kind} {reference} answers {asset.status}: {asset.body[:300]}"
                )
            elif asset.content_type not in CONTENT_TYPES[kind]:
                problems.append(f"{path}: {kind} {reference} is {asset.content_type}")
            elif not asset.body.strip():
                problems.append(f"{path}: {kind} {reference} is empty")
    return problems, fetched
