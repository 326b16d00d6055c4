"""The management web page at ``/`` and its static assets.

The page is plain HTML, CSS and JavaScript modules under ``static/`` (no build step); it
talks to the stats API of the same origin. Its one library, Chart.js, comes from the npm
registry (``services/dashboard/package.json`` and its lock file) and is served from
``node_modules`` as it was installed, never copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_from_directory
from flask_smorest import abort

import dashboard

blp = Blueprint("web", __name__, static_folder="static", static_url_path="/assets", url_prefix="")

#: The app config key (and environment variable) naming another ``node_modules`` directory.
ASSETS_DIR_VARIABLE = "DASHBOARD_ASSETS_DIR"
CHART_JS = Path("chart.js", "dist", "chart.umd.js")

# Everything the page loads comes from this origin and no script is inline, so the policy
# can forbid inline code and every other origin outright.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def node_modules() -> Path:
    """The ``node_modules`` directory the browser libraries are served from.

    ``DASHBOARD_ASSETS_DIR`` (app config, then settings) wins; otherwise the one that
    ``npm ci`` makes beside ``package.json`` in ``services/dashboard`` (the package is
    installed editable from its ``src`` layout, so that directory is two levels up).
    """
    configured = (
        current_app.config.get(ASSETS_DIR_VARIABLE)
        or current_app.extensions["dashboard"].settings.assets_dir
    )
    if configured:
        return Path(configured)
    return Path(dashboard.__file__).resolve().parents[2] / "node_modules"


@blp.get("/")
def index():
    """The page itself: its own security headers, never cached (a new release shows up)."""
    response = send_from_directory(blp.static_folder, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.after_request
def _no_sniffing(response):
    """Every file of the page is taken as the type it is sent with, never guessed."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.get("/vendor/chart.umd.js")
def chart_js():
    """Chart.js as npm installed it; 503 with the fix when ``npm ci`` has not been run."""
    directory = node_modules()
    if not (directory / CHART_JS).is_file():
        abort(
            503,
            message=(
                f"Chart.js is not installed: {directory / CHART_JS} is missing. "
                "Run `npm ci` in services/dashboard (or point DASHBOARD_ASSETS_DIR at a "
                "node_modules directory that has it)."
            ),
        )
    response = send_from_directory(directory, CHART_JS.as_posix())
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
