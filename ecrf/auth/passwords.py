"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn import zxcvbn

PROFILES = {
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106_high_memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}
MAX_LENGTH = 256
#: zxcvbn refuses longer input; a longer password is scored on its first characters.
SCORED_LENGTH = 72
#: Words anyone guessing a password of this trial's staff would try first.
STUDY_WORDS = ("ecrf", "iahprrt", "iah-prrt", "prrt", "lutarterial", "bordeaux", "chu", "trial")

TOO_SHORT = "Use at least {minimum} characters."
TOO_LONG = "Use at most {maximum} characters."
CONTAINS_USERNAME = "The password must not contain the username."
TOO_GUESSABLE = "This password is too easy to guess."


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


def study_words() -> list[str]:
    """Words of the running study (its identifiers and name) plus :data:`STUDY_WORDS`."""
    words = list(STUDY_WORDS)
    loaded = current_app.extensions.get("ecrf_study")
    if loaded is not None:
        study = loaded.study
        for text in (study.oid, study.name, study.protocol):
            words.extend(w for w in re.split(r"[^\w-]+", text.lower()) if len(w) > 2)
    return words


def password_problems(password: str, username: str, user_inputs: Iterable[str] = ()) -> list[str]:
    """What is wrong with ``password`` for ``username`` under the policy; empty when fine.

    Beyond the length, zxcvbn estimates how guessable it is (common and leaked passwords,
    keyboard patterns, repeats, dates, and ``user_inputs``: the person's names and the
    study's words); its warning and suggestions explain a refusal.
    """
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(TOO_SHORT.format(minimum=minimum))
    if len(password) > MAX_LENGTH:
        problems.append(TOO_LONG.format(maximum=MAX_LENGTH))
    if username and username.lower() in password.lower():
        problems.append(CONTAINS_USERNAME)
    if problems:
        return problems
    inputs = [username, *user_inputs, *study_words()]
    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=[i.lower() for i in inputs if i])
    if result["score"] < current_app.config["PASSWORD_MIN_SCORE"]:
        feedback = result["feedback"]
        problems.append(TOO_GUESSABLE)
        if feedback.get("warning"):
            problems.append(feedback["warning"])
        problems.extend(feedback.get("suggestions") or [])
    return problems
