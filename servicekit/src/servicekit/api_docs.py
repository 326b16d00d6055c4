"""Swagger UI (``/api/docs``) and ReDoc (``/api/redoc``) from the service's own host.

flask-smorest renders both pages; by default they would load their scripts and styles from
a public CDN, so on a machine without internet the pages stay blank. The bundles come from
the npm registry instead (``servicekit/package.json`` and its lock file; ``npm ci`` there)
and are served from ``node_modules`` as npm installed them, under ``/api/docs/assets/``.
``API_DOCS_ASSETS_DIR`` (app config, then environment) names another ``node_modules``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, current_app, send_from_directory
from flask_smorest import abort

import servicekit

#: The app config key (and environment variable) naming another ``node_modules`` directory.
ASSETS_DIR_VARIABLE = "API_DOCS_ASSETS_DIR"
ASSETS_URL = "/api/docs/assets"
#: Served name -> the directory of an installed npm package that holds its files.
PACKAGES = {
    "swagger-ui": Path("swagger-ui-dist"),
    "redoc": Path("redoc", "bundles"),
}

blp = Blueprint("api_docs_assets", __name__, url_prefix=ASSETS_URL)


def flask_smorest_config() -> dict:
    """The flask-smorest settings that point both pages at the assets served here."""
    return {
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
    configured = current_app.config.get(ASSETS_DIR_VARIABLE) or os.environ.get(
        ASSETS_DIR_VARIABLE
    )
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
