"""Password hashing with argon2id."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from appstore.security.passwords import Passwords


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords("cheapest")


def test_hash_is_argon2id_and_verifies(passwords):
    hashed = passwords.hash("correct horse")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert passwords.verify(hashed, "correct horse") is True


def test_hashes_are_salted(passwords):
    assert passwords.hash("same password") != passwords.hash("same password")


@pytest.mark.parametrize("attempt", ["wrong horse", "correct hors", "Correct horse", ""])
def test_wrong_password_fails(passwords, attempt):
    assert passwords.verify(passwords.hash("correct horse"), attempt) is False


@pytest.mark.parametrize("attempt", ["anything", "decoy password", ""])
def test_missing_hash_fails(passwords, attempt):
    """An unknown user has no hash; the check still runs and still says no."""
    assert passwords.verify(None, attempt) is False
    assert passwords.verify("", attempt) is False


@pytest.mark.parametrize("stored", ["not a hash", "$argon2id$v=19$garbage", "$2b$12$abcdefghijk"])
def test_unreadable_hash_fails(passwords, stored):
    assert passwords.verify(stored, "correct horse") is False


def test_a_hash_made_with_other_parameters_still_verifies(passwords):
    """The parameters travel in the hash, so changing the profile keeps old accounts working."""
    other = PasswordHasher(time_cost=2, memory_cost=16, parallelism=2)
    assert passwords.verify(other.hash("pw from before"), "pw from before") is True
    assert passwords.verify(other.hash("pw from before"), "pw from after") is False


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown password profile"):
        Passwords("fastest-possible")
