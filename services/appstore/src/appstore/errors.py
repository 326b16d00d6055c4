"""The Appstore's exception tree. Each error knows the HTTP status it is answered with."""

from __future__ import annotations


class AppstoreError(Exception):
    """Base of every error a request can end with on purpose."""

    status_code = 400

    def __init__(self, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class Unauthorized(AppstoreError):
    status_code = 401


class Forbidden(AppstoreError):
    status_code = 403


class NotFound(AppstoreError):
    status_code = 404


class Conflict(AppstoreError):
    status_code = 409


class InsufficientCredit(AppstoreError):
    status_code = 402


class InvalidRequest(AppstoreError):
    status_code = 422
