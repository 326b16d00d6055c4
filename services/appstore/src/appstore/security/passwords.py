"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

_PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


class Passwords:
    """Hashes and checks passwords with the argon2 parameters of a named profile."""

    def __init__(self, profile: str = "rfc9106-low-memory") -> None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown password profile {profile!r}; one of {sorted(_PROFILES)}")
        self._hasher = PasswordHasher.from_parameters(_PROFILES[profile])
        # Checked against when the user does not exist, so that a wrong username costs as
        # much time as a wrong password and the two cannot be told apart.
        self._decoy = self._hasher.hash("decoy password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Return whether ``password`` matches; ``None`` burns the same time and fails."""
        try:
            return self._hasher.verify(password_hash or self._decoy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False
