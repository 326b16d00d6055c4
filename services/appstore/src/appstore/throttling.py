"""Sign-in and registration throttling, with Flask-Limiter.

- Failed sign-ins (401) are counted per username (``APPSTORE_SIGNIN_LIMIT``) and per client
  address (``APPSTORE_SIGNIN_ADDRESS_LIMIT``). Once either is spent, sign-ins for that
  username, or from that address, get 429 with ``Retry-After`` until the window moves on.
  A successful sign-in is never counted, so it never slows anyone else down.
- Registrations are counted per client address (``APPSTORE_REGISTER_LIMIT``), whatever
  their answer.

Counts live in Redis when ``REDIS_URL`` is set, so every API process shares them; in each
process's memory otherwise (the embedded set-up). A limit of ``off`` disables it.
If Redis stops answering, requests go on, counted in memory, rather than failing.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

from servicekit.api import error_response

OFF = "off"
#: For benchmarks, load tests and suites that register and sign in far faster than people:
#: the settings (``Settings(**UNTHROTTLED)``) and the environment that turn every limit off.
UNTHROTTLED = {"signin_limit": OFF, "signin_address_limit": OFF, "register_limit": OFF}
UNTHROTTLED_ENV = {
    "APPSTORE_SIGNIN_LIMIT": OFF,
    "APPSTORE_SIGNIN_ADDRESS_LIMIT": OFF,
    "APPSTORE_REGISTER_LIMIT": OFF,
}
SIGNIN_ENDPOINT = "auth.Token"
REGISTER_ENDPOINT = "auth.Register"
_HOOKS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")


def check_limit(name: str, value: str) -> str:
    """``value`` itself when it is ``off`` or in the limiter's syntax (``5/minute``).

    Raises:
        ValueError: naming the variable and what it holds.
    """
    if value.strip().lower() == OFF:
        return OFF
    try:
        parse_many(value)
    except ValueError as error:
        raise ValueError(
            f"{name}={value!r} is not a limit: write e.g. '5/minute', '100/hour', or 'off'"
        ) from error
    return value


def init_app(app: Flask, *, signin: str, signin_address: str, register: str, redis_url) -> None:
    """Throttle the sign-in and registration views of ``app`` (registered already)."""
    counts = _hook_counts(app)
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=redis_url or "memory://",
        strategy="moving-window",
        key_prefix="appstore",
        swallow_errors=True,
        in_memory_fallback_enabled=bool(redis_url),
    )
    app.extensions["appstore-limiter"] = limiter
    _confine(app, counts, {e.rpartition(".")[0] for e in (SIGNIN_ENDPOINT, REGISTER_ENDPOINT)})
    signin_limits = []
    if signin != OFF:
        signin_limits.append(
            limiter.limit(
                signin,
                key_func=_username,
                methods=["POST"],
                deduct_when=_failed,
                scope="signin-username",
            )
        )
    if signin_address != OFF:
        signin_limits.append(
            limiter.limit(
                signin_address, methods=["POST"], deduct_when=_failed, scope="signin-address"
            )
        )
    _decorate(app, SIGNIN_ENDPOINT, signin_limits)
    if register != OFF:
        register_limit = limiter.limit(register, methods=["POST"], scope="register")
        _decorate(app, REGISTER_ENDPOINT, [register_limit])
    app.register_error_handler(RateLimitExceeded, _too_many_requests)


def _hook_counts(app: Flask) -> list[int]:
    """How many application-wide before-, after- and teardown-request hooks ``app`` has."""
    return [len(getattr(app, hooks).get(None, ())) for hooks in _HOOKS]


def _confine(app: Flask, counts: list[int], blueprints: set[str]) -> None:
    """Move the application-wide hooks added since ``counts`` to the ``blueprints``' requests.

    Flask-Limiter hooks into every request of the application, and on a request it does not
    govern its hooks still look up the view's limits and set up and reset their context: more
    work than all the rest of Flask's around a purchase. Only the sign-in and registration
    views have limits, so only their blueprint's requests run the hooks (after the
    application's own before-request hooks, so a refusal carries the request id too).
    """
    for hooks, count in zip(_HOOKS, counts, strict=True):
        registered = getattr(app, hooks)
        everywhere = registered.setdefault(None, [])
        added = everywhere[count:]
        del everywhere[count:]
        for blueprint in sorted(blueprints):
            registered.setdefault(blueprint, []).extend(added)


def _decorate(app: Flask, endpoint: str, decorators: list) -> None:
    view = app.view_functions[endpoint]
    for decorator in decorators:
        view = decorator(view)
    app.view_functions[endpoint] = view


def _username() -> str:
    """The username a sign-in is for (JSON or form), case-folded as accounts are unique."""
    body = request.get_json(silent=True) if request.is_json else request.form
    name = body.get("username") if isinstance(body, dict) or hasattr(body, "get") else None
    if not isinstance(name, str) or not name:
        return f"address:{get_remote_address()}"
    return f"user:{name[:40].casefold()}"


def _failed(response) -> bool:
    return response.status_code == 401


def _too_many_requests(error: RateLimitExceeded):
    limit = current_app.extensions["appstore-limiter"].current_limit
    wait = math.ceil(limit.reset_at - time.time()) if limit is not None else 60
    return error_response(
        429,
        "Too many attempts: try again later.",
        headers={"Retry-After": str(max(1, wait))},
    )
