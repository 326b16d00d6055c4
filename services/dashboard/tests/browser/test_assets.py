"""What the server sends for the page: its security headers, its scripts, Chart.js."""

from __future__ import annotations

import re

import requests

from dashboard.app import create_app
from dashboard.bootstrap import bootstrap
from dashboard.config import Settings


def test_the_page_comes_with_a_strict_content_security_policy(dashboard):
    answer = requests.get(f"{dashboard.url}/", timeout=10)

    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy
    # No other host anywhere in it: every source is 'self', 'none' or data: images.
    assert "http" not in policy
    assert "*" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    # Nothing inline for the policy to block: every script has a src, no style attributes.
    scripts = re.findall(r"<script\b[^>]*>", answer.text)
    assert scripts
    assert all(" src=" in tag for tag in scripts)
    assert " style=" not in answer.text
    assert "<style" not in answer.text


def test_the_page_scripts_are_served_as_javascript(dashboard):
    for path in ("/assets/app.js", "/assets/time.js", "/vendor/chart.umd.js"):
        answer = requests.get(f"{dashboard.url}{path}", timeout=10)
        assert answer.status_code == 200, path
        assert "javascript" in answer.headers["Content-Type"], path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
    chart = requests.get(f"{dashboard.url}/vendor/chart.umd.js", timeout=10).text
    assert "Chart.js v4" in chart[:200]


def test_without_npm_ci_chart_js_answers_503_saying_what_to_run(tmp_path):
    components = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    try:
        app = create_app(components=components)
        app.config["DASHBOARD_ASSETS_DIR"] = str(tmp_path / "node_modules")

        answer = app.test_client().get("/vendor/chart.umd.js")
        page = app.test_client().get("/")
    finally:
        components.close()

    assert answer.status_code == 503
    assert "Run `npm ci` in services/dashboard" in answer.get_json()["message"]
    assert page.status_code == 200  # the page itself works, with tables instead of charts


def test_api_docs_render_in_the_browser_from_the_dashboard_alone(context, dashboard):
    """Both pages work with only the Dashboard to talk to; what the bundles would fetch from
    elsewhere (ReDoc's logo) the page's policy blocks before it leaves the browser."""
    answered: list[str] = []
    failed: list[tuple[str, str | None]] = []
    errors: list[str] = []
    violations: list[str] = []
    context.on("response", lambda response: answered.append(response.url))
    context.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    tab = context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security" in message.text else None
        ),
    )

    tab.goto("/api/docs")
    tab.locator(".swagger-ui .opblock").first.wait_for(timeout=30_000)
    assert "Dashboard" in tab.locator(".swagger-ui .info .title").inner_text()
    tab.goto("/api/redoc")
    tab.get_by_role("heading", name="Dashboard (v1)").wait_for(timeout=30_000)

    assert errors == []
    # Scripts, styles, the spec and ReDoc's search worker all pass the policy.
    assert all("'https://cdn.redoc.ly/redoc/logo-mini.svg'" in text for text in violations)
    own = (dashboard.url, f"blob:{dashboard.url}/")
    assert [url for url in answered if not url.startswith(own)] == []
    assert f"{dashboard.url}/api/openapi.json" in answered
    # What failed, the policy stopped (ReDoc's logo): nothing else went astray.
    assert [failure for _, failure in failed if failure != "csp"] == []
