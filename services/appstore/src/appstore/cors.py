"""Cross-origin calls from browsers (CORS), with Flask-Cors, for the origins configured.

A front end served from another origin (``APPSTORE_CORS_ORIGINS``, comma-separated, e.g.
``https://shop.example.com``) may call the API with ``fetch``: preflights are answered,
``Authorization``, ``Content-Type`` and ``Idempotency-Key`` may be sent, ``X-Pagination``
may be read. Any other origin gets no CORS header at all, so its pages cannot read answers.
Unset, no origin is allowed.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
EXPOSED_HEADERS = ["X-Pagination", "Retry-After"]
#: Browsers may keep a preflight's answer this many seconds.
PREFLIGHT_MAX_AGE = 600


def init_app(app: Flask, origins: tuple[str, ...]) -> None:
    """Answer cross-origin calls to the API and the key set from ``origins`` only."""
    if not origins:
        return
    CORS(
        app,
        resources={r"/api/v1/*": {}, r"/.well-known/*": {}},
        origins=list(origins),
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        methods=["GET", "POST", "PATCH", "DELETE"],
        max_age=PREFLIGHT_MAX_AGE,
        supports_credentials=False,
        vary_header=True,
    )
