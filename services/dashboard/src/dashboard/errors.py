"""Every exception the Dashboard defines, so a caller finds what it may catch in one place.

Where each is raised: settings (:class:`ConfigError`), tokens and roles (the
:class:`AuthError` tree), the series (:class:`TooManyPoints`), the app and developer
filters (:class:`UnknownScope`), the fold and its worker (:class:`UnfoldableEvent`,
:class:`MissingProgressRow`) and the rebuild (:class:`RebuildRunning`).
"""


class ConfigError(ValueError):
    """An environment variable holds a value the dashboard cannot use."""


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


class TooManyPoints(ValueError):
    """The series would have more points than the caller allows."""


class UnknownScope(LookupError):
    """An ``app_id`` or ``owner_id`` the dashboard has folded nothing about. The API
    answers 404."""


class UnfoldableEvent(ValueError):
    """An envelope of a type or version the fold does not know; nothing was written."""


class MissingProgressRow(RuntimeError):
    """The database has no ``fold_progress`` row: ``dashboard db upgrade`` has not run.

    The worker retries (the migration may be on its way); the API answers 503.
    """


class RebuildRunning(RuntimeError):
    """Another rebuild of the same database is running."""


class AppstoreUnavailable(Exception):
    """The Appstore could not be reached, refused the credentials, or answered oddly.

    The Dashboard's side of a failed call; the Appstore's own error classes never cross
    the wire, only their HTTP answers do.
    """
