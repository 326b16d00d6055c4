"""Errors raised while authenticating and authorising callers of the dashboard."""


class AuthError(Exception):
    """Base class of every authentication or authorisation failure."""


class InvalidToken(AuthError):
    """The bearer token cannot be trusted: malformed, badly signed, expired or incomplete.

    The API answers 401.
    """


class UnknownSigningKey(InvalidToken):
    """The token names a key id that the Appstore's JWKS does not hold."""


class KeySourceUnavailable(AuthError):
    """No signing keys are available because the Appstore's JWKS could not be fetched.

    This says nothing about the token itself, so the API answers 503 rather than 401.
    """


class Forbidden(AuthError):
    """The token is valid but its role may not use the resource. The API answers 403."""
