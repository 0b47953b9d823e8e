"""Captured data, shaped like CDISC ODM: form → item group rows → item values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.db import Base, utcnow
from ecrf.study.models import Visit, str_enum


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

    visit: Mapped[Visit] = relationship()
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
