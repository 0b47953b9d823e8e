"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

PROFILES = {
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106_high_memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}
MAX_LENGTH = 256


@cache
def _hasher(profile: str) -> PasswordHasher:
    try:
        return PasswordHasher.from_parameters(PROFILES[profile])
    except KeyError:
        raise RuntimeError(
            f"unknown PASSWORD_HASH_PROFILE {profile!r}; choose one of {', '.join(PROFILES)}"
        ) from None


def hasher() -> PasswordHasher:
    return _hasher(current_app.config["PASSWORD_HASH_PROFILE"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash(profile: str) -> str:
    return _hasher(profile).hash("not a password of anyone")


def burn_verification_time(password: str) -> None:
    """Spend as long as a real check, so timing does not tell whether a username exists."""
    verify_password(_dummy_hash(current_app.config["PASSWORD_HASH_PROFILE"]), password)


def password_problems(password: str, username: str) -> list[str]:
    """What is wrong with ``password`` for ``username`` under the policy; empty when fine."""
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(f"Use at least {minimum} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    if username and username.lower() in password.lower():
        problems.append("The password must not contain the username.")
    return problems
