"""Swagger UI (``/api/docs``) and ReDoc (``/api/redoc``) from the service's own host.

flask-smorest renders both pages; by default they would load their scripts and styles from
a public CDN, so on a machine without internet the pages stay blank. The bundles come from
the npm registry instead (``servicekit/package.json`` and its lock file; ``npm ci`` there)
and are served from ``node_modules`` as npm installed them, under ``/api/docs/assets/``.
``API_DOCS_ASSETS_DIR`` (app config, then environment) names another ``node_modules``.

The bundles themselves still link elsewhere (ReDoc shows Redocly's logo from their CDN), so
both pages are sent with a Content-Security-Policy that lets the browser load nothing from
any other origin.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory
from flask_smorest import abort

import servicekit

#: The app config key (and environment variable) naming another ``node_modules`` directory.
ASSETS_DIR_VARIABLE = "API_DOCS_ASSETS_DIR"
PREFIX = "/api"
SWAGGER_UI_PATH = "docs"
REDOC_PATH = "redoc"
ASSETS_URL = f"{PREFIX}/{SWAGGER_UI_PATH}/assets"
PAGES = (f"{PREFIX}/{SWAGGER_UI_PATH}", f"{PREFIX}/{REDOC_PATH}")
#: Served name -> the directory of an installed npm package that holds its files.
PACKAGES = {
    "swagger-ui": Path("swagger-ui-dist"),
    "redoc": Path("redoc", "bundles"),
}

# Same origin only. Styles may be inline: ReDoc injects its styles as <style> elements.
# ReDoc's search runs in a worker made from a blob. The one inline script, Swagger UI's
# start-up that flask-smorest writes into the page, is allowed by its hash alone.
_POLICY = (
    "default-src 'none'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src blob:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

blp = Blueprint("api_docs_assets", __name__, url_prefix=ASSETS_URL)


def flask_smorest_config() -> dict:
    """The flask-smorest settings for both pages, pointing them at the assets served here."""
    return {
        "OPENAPI_URL_PREFIX": PREFIX,
        "OPENAPI_SWAGGER_UI_PATH": SWAGGER_UI_PATH,
        "OPENAPI_REDOC_PATH": REDOC_PATH,
        "OPENAPI_SWAGGER_UI_URL": f"{ASSETS_URL}/swagger-ui/",
        "OPENAPI_REDOC_URL": f"{ASSETS_URL}/redoc/redoc.standalone.js",
        # Swagger UI would otherwise show a badge image fetched from validator.swagger.io.
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
    }


def node_modules() -> Path:
    """The ``node_modules`` directory the bundles are served from.

    ``API_DOCS_ASSETS_DIR`` (app config, then environment) wins; otherwise the one that
    ``npm ci`` makes beside ``package.json`` in ``servicekit`` (installed editable from its
    ``src`` layout, so that directory is two levels above the package).
    """
    configured = current_app.config.get(ASSETS_DIR_VARIABLE) or os.environ.get(ASSETS_DIR_VARIABLE)
    if configured:
        return Path(configured)
    return Path(servicekit.__file__).resolve().parents[2] / "node_modules"


@blp.get("/<any('swagger-ui', redoc):package>/<path:filename>")
def asset(package: str, filename: str):
    """One file of an installed bundle; 503 with the fix when ``npm ci`` has not been run."""
    directory = node_modules() / PACKAGES[package]
    if not directory.is_dir():
        abort(
            503,
            message=(
                f"The API docs' browser bundles are not installed: {directory} is missing. "
                "Run `npm ci` in servicekit (or point API_DOCS_ASSETS_DIR at a "
                "node_modules directory that has them)."
            ),
        )
    response = send_from_directory(directory, filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.after_app_request
def page_security_headers(response: Response) -> Response:
    """Both docs pages: a policy that keeps the browser on this origin."""
    if request.path not in PAGES or response.mimetype != "text/html":
        return response
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"
        for code in _INLINE_SCRIPT.findall(response.get_data(as_text=True))
    )
    script_src = f"script-src 'self' {hashes}".rstrip()
    response.headers["Content-Security-Policy"] = "; ".join((*_POLICY, script_src))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
