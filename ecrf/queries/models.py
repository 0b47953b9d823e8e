"""A query and its thread of messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.auth.models import User
from ecrf.db import Base, utcnow
from ecrf.records.models import Finding, FormEntry, Subject, SubjectVisit, str_enum


class QueryState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return QUERY_STATE_LABELS[self]


QUERY_STATE_LABELS = {
    QueryState.OPEN: "Open",
    QueryState.ANSWERED: "Answered",
    QueryState.CLOSED: "Closed",
}


class QueryLevel(StrEnum):
    """What a query is about, from the narrowest."""

    ITEM = "item"
    ROW = "row"
    FORM = "form"
    VISIT = "visit"


class MessageKind(StrEnum):
    OPENED = "opened"
    ANSWERED = "answered"
    CLOSED = "closed"
    REOPENED = "reopened"
    #: Closed by the data: the finding an automatic query came from was resolved.
    RESOLVED = "resolved"


class Query(Base):
    """A question about captured data (ODM has none: CDISC calls it a data clarification).

    States go open → answered → closed; a closed query may be reopened. Only the side that
    raises queries (monitors, data managers) closes or reopens; the site answers.
    """

    __tablename__ = "data_query"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    #: The form entry (every level but a visit's).
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("form_entry.id"), index=True)
    #: The row (its group and repeat key) for row and item queries; the item for item ones.
    group_oid: Mapped[str | None] = mapped_column(sa.String(40))
    repeat_key: Mapped[int | None]
    item_oid: Mapped[str | None] = mapped_column(sa.String(40))
    level: Mapped[QueryLevel] = mapped_column(str_enum(QueryLevel, 10))
    state: Mapped[QueryState] = mapped_column(str_enum(QueryState, 10), default=QueryState.OPEN)
    #: Set for a query opened automatically from this finding.
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finding.id"), unique=True)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    # The query list pages through queries oldest first: read in that order, not sorted.
    __table_args__ = (sa.Index("ix_data_query_opened_at", "opened_at", "id"),)

    subject: Mapped[Subject] = relationship()
    visit: Mapped[SubjectVisit] = relationship()
    entry: Mapped[FormEntry | None] = relationship()
    finding: Mapped[Finding | None] = relationship()
    messages: Mapped[list[QueryMessage]] = relationship(
        back_populates="query", order_by="QueryMessage.id"
    )

    @property
    def automatic(self) -> bool:
        return self.finding_id is not None


class QueryMessage(Base):
    """One step of a query's thread: its opening, each answer, closing or reopening."""

    __tablename__ = "query_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(sa.ForeignKey("data_query.id"), index=True)
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, 10))
    text: Mapped[str] = mapped_column(sa.Text)
    #: None when the system wrote it (an automatic query opened or resolved by the data).
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    query: Mapped[Query] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
