"""Keep a refused form post, and hand it back once, to the right person, on the right page."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.resume.models import PendingSubmission

#: How long a kept form waits: longer than a shift, short enough not to pile up.
KEEP_FOR = timedelta(hours=24)
#: Never kept: the old form's CSRF token is useless, and the button pressed is chosen again.
NOT_KEPT = frozenset({"csrf_token", "action"})


def stash_submission(
    fields: list[tuple[str, str]], *, user_id: int | None, path: str, now: datetime | None = None
) -> str:
    """Keep the posted ``fields`` for ``path``; return the token that gives them back.

    Kept forms older than :data:`KEEP_FOR` are deleted on the way.

    :param fields: (name, value) pairs as posted; CSRF token and action are dropped.
    :param user_id: the account whose session ended, or None when it is unknown.
    :param path: the page the form was posted to.
    """
    now = now or utcnow()
    purge_expired(now)
    token = secrets.token_urlsafe(32)
    kept = [[name, value] for name, value in fields if name not in NOT_KEPT]
    db.session.add(
        PendingSubmission(
            token=token, user_id=user_id, path=path, fields=json.dumps(kept), created_at=now
        )
    )
    db.session.flush()
    return token


def take_submission(
    token: str | None, *, user_id: int, path: str, now: datetime | None = None
) -> list[tuple[str, str]] | None:
    """The fields kept under ``token`` for ``path``, deleted as they are handed back.

    None when there is none, it expired, it was posted to another page, or another known
    account's session had ended (a form is only given back to the person who typed it; an
    unknown sender's form goes to whoever signs in, whose right to the page is checked).
    """
    if not token:
        return None
    now = now or utcnow()
    pending = db.session.scalar(
        sa.select(PendingSubmission).where(PendingSubmission.token == token)
    )
    if pending is None or pending.path != path or pending.created_at < now - KEEP_FOR:
        return None  # an expired one goes at the next purge
    if pending.user_id is not None and pending.user_id != user_id:
        return None
    db.session.delete(pending)
    db.session.flush()
    return [(name, value) for name, value in json.loads(pending.fields)]


def purge_expired(now: datetime | None = None) -> int:
    """Delete kept forms older than :data:`KEEP_FOR`; return how many."""
    cutoff = (now or utcnow()) - KEEP_FOR
    result = db.session.execute(
        sa.delete(PendingSubmission).where(PendingSubmission.created_at < cutoff)
    )
    return result.rowcount or 0
