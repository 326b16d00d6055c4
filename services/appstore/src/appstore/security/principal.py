"""Who is calling: the identity a verified token carries."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
MANAGEMENT = "management"
SERVICE = "service"
USER = "user"

# Roles that may read every user's and every purchase's records.
READERS_OF_ALL = frozenset({ADMIN, MANAGEMENT, SERVICE})


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def reads_all(self) -> bool:
        return self.role in READERS_OF_ALL
