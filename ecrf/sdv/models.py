"""A value verified against its source, and a site's own share of subjects to verify."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.auth.models import User
from ecrf.db import Base, utcnow
from ecrf.records.models import FormEntry, Site, str_enum


class Withdrawal(StrEnum):
    """Why a verification no longer holds."""

    CHANGED = "changed"
    ROW_REMOVED = "row_removed"


class SourceVerification(Base):
    """One item's value, as a monitor verified it against the source document.

    Verifying a row, a form or a visit records one of these per item with a value, so
    that a later change withdraws only the changed items' verification. A withdrawn one is
    kept, with when, by whom and why; the item then needs verifying again.
    """

    __tablename__ = "source_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("form_entry.id"), index=True)
    group_oid: Mapped[str] = mapped_column(sa.String(40))
    repeat_key: Mapped[int]
    item_oid: Mapped[str] = mapped_column(sa.String(40))
    #: The value verified, as the audit trail reads it ("72", "1.2 mg/dL", "[ND]").
    value: Mapped[str | None] = mapped_column(sa.Text)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    #: Who changed the value (or removed the row), which withdrew the verification.
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    withdrawn_cause: Mapped[Withdrawal | None] = mapped_column(str_enum(Withdrawal, 12))
    #: The value that replaced the verified one (None when cleared or its row removed).
    withdrawn_value: Mapped[str | None] = mapped_column(sa.Text)

    entry: Mapped[FormEntry] = relationship()
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def current(self) -> bool:
        return self.withdrawn_at is None


class SitePlan(Base):
    """A site's own percentage of subjects whose non-critical forms are verified, set by a
    data manager in place of the definition's (a site with more findings, say)."""

    __tablename__ = "sdv_site_plan"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    percentage: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()
