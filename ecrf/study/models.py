"""Sites, subjects and their visits."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.db import Base, utcnow

SITE_CODE_PATTERN = r"^[A-Z0-9]{2,8}$"


def str_enum(enum: type[StrEnum], length: int = 20) -> sa.Enum:
    """Store a StrEnum by value as a plain string (no native DB enum to migrate)."""
    return sa.Enum(
        enum, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short upper-case code; it prefixes every subject identifier (BDX-001).
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Last subject number handed out; incremented under a row lock (no duplicate numbers).
    last_subject_number: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<Site {self.code}>"


class SubjectStatus(StrEnum):
    SCREENING = "screening"
    SCREEN_FAILURE = "screen_failure"
    INCLUDED = "included"
    IN_FOLLOW_UP = "in_follow_up"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"in_follow_up": "In follow-up", "screen_failure": "Screen failure"}.get(
            self.value, self.value.replace("_", " ").capitalize()
        )


#: Allowed status changes; anything else is refused.
SUBJECT_TRANSITIONS: dict[SubjectStatus, frozenset[SubjectStatus]] = {
    SubjectStatus.SCREENING: frozenset(
        {SubjectStatus.SCREEN_FAILURE, SubjectStatus.INCLUDED, SubjectStatus.WITHDRAWN}
    ),
    SubjectStatus.INCLUDED: frozenset(
        {SubjectStatus.IN_FOLLOW_UP, SubjectStatus.COMPLETED, SubjectStatus.WITHDRAWN}
    ),
    SubjectStatus.IN_FOLLOW_UP: frozenset({SubjectStatus.COMPLETED, SubjectStatus.WITHDRAWN}),
    SubjectStatus.SCREEN_FAILURE: frozenset(),
    SubjectStatus.COMPLETED: frozenset(),
    SubjectStatus.WITHDRAWN: frozenset(),
}


#: Status changes that are the investigator's decision (ICH E6: the investigator decides
#: eligibility and withdrawal); site staff prepare the data, and record the others.
INVESTIGATOR_DECISIONS = frozenset(
    {SubjectStatus.INCLUDED, SubjectStatus.SCREEN_FAILURE, SubjectStatus.WITHDRAWN}
)


class Subject(Base):
    __tablename__ = "subject"
    __table_args__ = (sa.UniqueConstraint("site_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    number: Mapped[int]
    #: SITECODE-NNN, unique in the trial and never reused.
    identifier: Mapped[str] = mapped_column(sa.String(20), unique=True)
    status: Mapped[SubjectStatus] = mapped_column(
        str_enum(SubjectStatus), default=SubjectStatus.SCREENING
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    site: Mapped[Site] = relationship()
    visits: Mapped[list[Visit]] = relationship(
        back_populates="subject", order_by="Visit.id", cascade="save-update, merge"
    )


class Visit(Base):
    """A visit (ODM StudyEvent) of a subject; unscheduled visits repeat with a repeat key."""

    __tablename__ = "visit"
    __table_args__ = (sa.UniqueConstraint("subject_id", "visit_oid", "repeat_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    visit_oid: Mapped[str] = mapped_column(sa.String(40))
    repeat_key: Mapped[int] = mapped_column(default=1)
    #: The day the visit took place (what windows are checked against).
    visit_date: Mapped[date | None] = mapped_column(sa.Date)
    #: Set when the visit date fell outside its window: a protocol deviation.
    out_of_window: Mapped[bool] = mapped_column(default=False)
    deviation_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subject: Mapped[Subject] = relationship(back_populates="visits")
