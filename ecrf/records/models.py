"""The clinical records, shaped like CDISC ODM: site → subject → visit → form entry →
item group row → item value, the definition version each entry follows, and the findings
of edit checks on them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
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
    visits: Mapped[list[SubjectVisit]] = relationship(
        back_populates="subject", order_by="SubjectVisit.id", cascade="save-update, merge"
    )


class SubjectVisit(Base):
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


class DefinitionVersion(Base):
    """A published version of the study definition; its digest may never change."""

    __tablename__ = "definition_version"
    __table_args__ = (sa.UniqueConstraint("study_oid", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_oid: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[str] = mapped_column(sa.String(40))
    digest: Mapped[str] = mapped_column(sa.String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class EntryStatus(StrEnum):
    DRAFT = "draft"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return {"draft": "In progress", "complete": "Complete"}[self.value]


class FormEntry(Base):
    """One form of one visit (ODM FormData)."""

    __tablename__ = "form_entry"
    __table_args__ = (sa.UniqueConstraint("visit_id", "form_oid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    form_oid: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus), default=EntryStatus.DRAFT)
    #: Incremented at every save: a save based on an older version is refused.
    version: Mapped[int] = mapped_column(default=0)
    definition_version_id: Mapped[int] = mapped_column(sa.ForeignKey("definition_version.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    visit: Mapped[SubjectVisit] = relationship()
    definition_version: Mapped[DefinitionVersion] = relationship()
    rows: Mapped[list[ItemGroupRow]] = relationship(
        back_populates="entry", order_by="(ItemGroupRow.group_oid, ItemGroupRow.repeat_key)"
    )


class ItemGroupRow(Base):
    """One occurrence of an item group (ODM ItemGroupData); repeat key 1 when not repeating."""

    __tablename__ = "item_group_row"
    __table_args__ = (sa.UniqueConstraint("entry_id", "group_oid", "repeat_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("form_entry.id"), index=True)
    group_oid: Mapped[str] = mapped_column(sa.String(40))
    repeat_key: Mapped[int]
    #: Rows are never deleted: removal is a flag with its reason (and an audit event).
    removed: Mapped[bool] = mapped_column(default=False)
    removed_reason: Mapped[str | None] = mapped_column(sa.Text)

    entry: Mapped[FormEntry] = relationship(back_populates="rows")
    values: Mapped[list[ItemValue]] = relationship(back_populates="row", order_by="ItemValue.id")


class ItemValue(Base):
    """One item's value (ODM ItemData).

    ``value_text`` is the exact canonical text (decimals keep their digits, partial dates
    their precision); ``value_number`` and ``value_date`` repeat it typed for queries.
    """

    __tablename__ = "item_value"
    __table_args__ = (sa.UniqueConstraint("row_id", "item_oid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    row_id: Mapped[int] = mapped_column(sa.ForeignKey("item_group_row.id"), index=True)
    item_oid: Mapped[str] = mapped_column(sa.String(40))
    value_text: Mapped[str | None] = mapped_column(sa.Text)
    value_number: Mapped[Decimal | None] = mapped_column(sa.Numeric(28, 10, asdecimal=True))
    value_date: Mapped[date | None] = mapped_column(sa.Date)
    #: NA, ND, UNK or NASK when no value could be given.
    missing_code: Mapped[str | None] = mapped_column(sa.String(8))
    #: UCUM symbol of the unit ``value_text`` was entered in (ODM MeasurementUnitRef), for
    #: items with several units; None: the item's standard unit (values saved before the
    #: item had several units).
    unit: Mapped[str | None] = mapped_column(sa.String(20))
    derived: Mapped[bool] = mapped_column(default=False)

    row: Mapped[ItemGroupRow] = relationship(back_populates="values")


class FindingStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Finding(Base):
    """An edit-check result left open by a save, shown at its item until the data resolve it."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("form_entry.id"), index=True)
    group_oid: Mapped[str] = mapped_column(sa.String(40))
    repeat_key: Mapped[int]
    item_oid: Mapped[str] = mapped_column(sa.String(40))
    check_name: Mapped[str] = mapped_column(sa.String(80))
    severity: Mapped[str] = mapped_column(sa.String(10))
    message: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[FindingStatus] = mapped_column(
        str_enum(FindingStatus, 10), default=FindingStatus.OPEN
    )
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    entry: Mapped[FormEntry] = relationship()
