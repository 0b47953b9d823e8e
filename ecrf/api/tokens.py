"""Personal access tokens: created by a user manager for an account, shown once, stored
hashed, expiring, revocable; a token acts with its account's current roles and sites.

Like every account service these flush and audit in the caller's transaction and never
commit. ``actor`` None is the command-line operator. The rule of account management
applies (:func:`ecrf.auth.services.check_manage`), and nobody creates a token for their
own account: the issue has tokens created by administrators for a user, so a second person
always decides that an account may be used by a script.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.api.models import ApiToken
from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.services import check_manage
from ecrf.db import utcnow
from ecrf.errors import RuleViolation
from ecrf.extensions import db

#: Every token starts with this, so that secret scanners (and people) recognise a leak.
PREFIX = "ecrf_"
#: Random bytes in a token (256 bits: no guessing, so a fast hash is enough to store it).
SECRET_BYTES = 32
DEFAULT_DAYS = 90
MAX_DAYS = 365
NAME_MAX = 80
#: last_used_at is written at most this often per token (a read must not write each time).
USE_RESOLUTION = timedelta(minutes=1)

OWN_TOKEN = "You cannot create a token for your own account; ask another user manager."
INACTIVE_USER = "This account is deactivated: it cannot be given a token."
NAME_NEEDED = "Name the token after the script or person that will use it."
NAME_TOO_LONG = f"The token's name must be at most {NAME_MAX} characters."
BAD_DAYS = f"A token lasts from 1 to {MAX_DAYS} days."
ALREADY_REVOKED = "This token is already revoked."


def hash_token(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_token(
    user: User, name: str, *, days: int = DEFAULT_DAYS, actor: User | None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the value, which is never stored.

    :param days: lifetime, 1 to MAX_DAYS.
    :raises PermissionDenied: the actor may not manage this account.
    :raises RuleViolation: own account, deactivated account, bad name or lifetime.
    """
    check_manage(actor, user)
    if actor is not None and actor.id == user.id:
        raise RuleViolation(OWN_TOKEN)
    if not user.active:
        raise RuleViolation(INACTIVE_USER)
    name = (name or "").strip()
    if not name:
        raise RuleViolation(NAME_NEEDED, field="name")
    if len(name) > NAME_MAX:
        raise RuleViolation(NAME_TOO_LONG, field="name")
    if not 1 <= days <= MAX_DAYS:
        raise RuleViolation(BAD_DAYS, field="days")
    value = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    now = utcnow()
    token = ApiToken(
        user=user,
        name=name,
        token_hash=hash_token(value),
        hint=value[: len(PREFIX) + 4],
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    # The hash is in the trail so that verification catches a token row planted, or
    # moved to another account, by whoever can write to the database alone.
    record_event(
        "token_created",
        "token",
        token.id,
        actor=actor,
        field=user.username,
        new=f"{token.token_hash} until {token.expires_at.isoformat(timespec='seconds')}",
        reason=name,
    )
    return token, value


def revoke_token(token: ApiToken, *, actor: User | None) -> None:
    """Revoke a token for good.

    :raises PermissionDenied: the actor may not manage the token's account.
    :raises RuleViolation: already revoked.
    """
    check_manage(actor, token.user)
    if token.revoked_at is not None:
        raise RuleViolation(ALREADY_REVOKED)
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id if actor is not None else None
    db.session.flush()
    record_event("token_revoked", "token", token.id, actor=actor, field=token.user.username)


def user_for_token(value: str, *, now: datetime | None = None) -> User | None:
    """The active account a usable token belongs to, or None (unknown, expired, revoked).

    Notes the time of use (to the minute). Nothing tells which of the reasons applied.
    """
    if not value.startswith(PREFIX) or len(value) > 200:
        return None
    now = now or utcnow()
    token = db.session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == hash_token(value))
        .options(selectinload(ApiToken.user).selectinload(User.roles))
    )
    if token is None or not token.is_usable(now) or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= USE_RESOLUTION:
        token.last_used_at = now
        db.session.flush()
    return token.user


def tokens_of(user: User) -> list[ApiToken]:
    """The account's tokens, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def all_tokens(*, include_inactive: bool = False) -> list[ApiToken]:
    """Every token (by default only those still usable), by id."""
    query = sa.select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id)
    if not include_inactive:
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
    return list(db.session.scalars(query))
