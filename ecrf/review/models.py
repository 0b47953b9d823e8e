"""A reviewer's "reviewed" mark: the changes of one site they have read, up to a point of
the audit trail."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ecrf.db import Base, utcnow


class ReviewMark(Base):
    """The reviewer read every change of the site up to audit event ``up_to_seq`` (its
    position in the chain) that the filters of the mark let through.

    A mark made under a filter (a form, an item, the person who changed the data) covers
    those changes only: marking the adverse events reviewed leaves the consent's changes new.
    Marks are only ever added; each one is itself an audit event ("audit_reviewed").
    """

    __tablename__ = "audit_review_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    #: The filters the changes were read under (None: any).
    form_oid: Mapped[str | None] = mapped_column(sa.String(40))
    item_oid: Mapped[str | None] = mapped_column(sa.String(40))
    changed_by: Mapped[str | None] = mapped_column(sa.String(80))
    up_to_seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_audit_review_mark_reviewer_site", "reviewer_id", "site_id"),)
