"""A lock on captured data, kept forever: unlocking dates it, names who and says why."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.auth.models import User
from ecrf.db import Base, utcnow
from ecrf.records.models import Site, Subject, str_enum


class LockLevel(StrEnum):
    """What a lock holds, from the broadest."""

    STUDY = "study"
    SITE = "site"
    SUBJECT = "subject"
    VISIT = "visit"
    FORM = "form"

    @property
    def label(self) -> str:
        return LOCK_LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        """0 for the study, 4 for a form: a lock covers every target of a higher rank."""
        return list(LockLevel).index(self)


LOCK_LEVEL_LABELS = {
    LockLevel.STUDY: "Whole study",
    LockLevel.SITE: "Site",
    LockLevel.SUBJECT: "Subject",
    LockLevel.VISIT: "Visit",
    LockLevel.FORM: "Form",
}


class DataLock(Base):
    """A lock on a form, a visit, a subject, a site or the whole study.

    Active while ``unlocked_at`` is empty; an unlocked lock stays, with who unlocked it,
    when and why (the history of locks). Only one lock is active per ``target`` (a unique
    index on the active ones): two data managers locking the same form at once make one
    lock.
    """

    __tablename__ = "data_lock"
    __table_args__ = (
        sa.Index(
            "uq_data_lock_active_target",
            "target",
            unique=True,
            sqlite_where=sa.text("unlocked_at IS NULL"),
            postgresql_where=sa.text("unlocked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[LockLevel] = mapped_column(str_enum(LockLevel, 10))
    #: The target as the audit trail names it: "study", "BDX", "BDX-001",
    #: "BDX-001/SCR[1]", "BDX-001/SCR[1]/LB".
    target: Mapped[str] = mapped_column(sa.String(120))
    #: The target's site (every level but the study's).
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"), index=True)
    #: The subject (subject, visit and form locks).
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    #: The visit and its occurrence (visit and form locks); the form (form locks).
    visit_oid: Mapped[str | None] = mapped_column(sa.String(40))
    visit_repeat: Mapped[int | None]
    form_oid: Mapped[str | None] = mapped_column(sa.String(40))
    #: Why it was locked (optional).
    lock_reason: Mapped[str | None] = mapped_column(sa.Text)
    locked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    unlocked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    unlocked_at: Mapped[datetime | None]
    #: Why it was unlocked (required to unlock).
    unlock_reason: Mapped[str | None] = mapped_column(sa.Text)

    site: Mapped[Site | None] = relationship()
    subject: Mapped[Subject | None] = relationship()
    locked_by: Mapped[User | None] = relationship(foreign_keys=[locked_by_id])
    unlocked_by: Mapped[User | None] = relationship(foreign_keys=[unlocked_by_id])

    @property
    def active(self) -> bool:
        return self.unlocked_at is None

    @property
    def locked_by_name(self) -> str:
        return self.locked_by.full_name if self.locked_by else "the system operator"

    @property
    def unlocked_by_name(self) -> str:
        return self.unlocked_by.full_name if self.unlocked_by else "the system operator"
