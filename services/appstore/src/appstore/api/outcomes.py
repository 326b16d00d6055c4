"""The HTTP answer to each outcome a service can end with: the one place they are mapped."""

from __future__ import annotations

from appstore.errors import AppstoreError
from servicekit.api import error_response

#: The status each ``AppstoreError.outcome`` is answered with.
STATUS = {
    "refused": 400,
    "unauthorized": 401,
    "insufficient_credit": 402,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "invalid": 422,
}


def answer_error(error: AppstoreError):
    """Answer a refusal in flask-smorest's error shape, with the status of its outcome.

    Parameters:
        error: the refusal a service raised.

    Returns:
        The Flask response tuple: body, status and headers.
    """
    status = STATUS[error.outcome]
    # RFC 6750: a 401 names the scheme the caller should authenticate with.
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return error_response(status, error.message, error.errors, headers)
