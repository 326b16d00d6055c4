"""Encoded answers as HTTP responses."""

from __future__ import annotations

from flask import Response


def json_response(body: bytes, status: int = 200) -> Response:
    # A Response passes through flask-smorest's @response untouched: the cached bytes are
    # sent without being decoded and dumped again.
    return Response(body, status=status, mimetype="application/json")
