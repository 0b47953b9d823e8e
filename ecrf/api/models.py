"""Personal access tokens of the JSON API."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.auth.models import User
from ecrf.db import Base, utcnow


class ApiToken(Base):
    """A token a script presents for one user; it acts with that user's current roles.

    Only the SHA-256 of the secret is stored: the value is shown once, at creation. Tokens
    are never deleted, so the trail's token ids always point at a row.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    #: Hex SHA-256 of the whole token: a 256-bit random secret needs no slow hash.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The token's first characters, to recognise it in a list (never enough to use it).
    hint: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    expires_at: Mapped[datetime]
    #: Kept to the minute (not written at every request).
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if now < self.expires_at else "expired"
