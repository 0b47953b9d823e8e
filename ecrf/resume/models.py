"""A form posted when its sender was not signed in, kept until they sign in again."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ecrf.db import Base, utcnow


class PendingSubmission(Base):
    """The fields of one refused form post, waiting for its sender to sign in again.

    Not clinical data yet: nothing is saved from it, it is only shown again in its form,
    where the normal save (permission, version and validation checks, audit) applies.
    Deleted when shown, and expired after a day.
    """

    __tablename__ = "pending_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random; the browser holds it in a cookie, never the values themselves.
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The account whose session ended, when known; only that account may take it back.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE")
    )
    #: The page the form was posted to, where it is shown again.
    path: Mapped[str] = mapped_column(sa.String(500))
    #: JSON list of [name, value] pairs, in order (a multiple choice repeats its name).
    fields: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
