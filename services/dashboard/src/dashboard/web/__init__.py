"""The management web page at ``/`` and its static assets."""

from __future__ import annotations

from flask import Blueprint

blp = Blueprint("web", __name__)
