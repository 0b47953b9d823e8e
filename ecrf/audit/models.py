"""Audit events (append-only) and the head of their hash chain."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ecrf.db import Base

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One recorded action. Rows are only ever inserted (a database trigger refuses the rest).

    ``hash`` is an HMAC, with a key kept outside the database, of every column and the
    previous event's hash: changing, removing or reordering any row breaks the chain from
    that row on, and whoever holds only the database cannot compute a replacement.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain, 1, 2, 3... without gaps.
    seq: Mapped[int] = mapped_column(unique=True)
    #: Set by the server's clock in UTC; never supplied by a user.
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: The actor's username at the time, or "cli:<os user>" for operator commands.
    actor: Mapped[str] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"), index=True)
    field: Mapped[str | None] = mapped_column(sa.String(100))
    old: Mapped[str | None] = mapped_column(sa.Text)
    new: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    #: Version of the study definition the change was made against (clinical data only).
    definition_version: Mapped[str | None] = mapped_column(sa.String(40))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (
        # Pattern operators on PostgreSQL: a subject's trail finds its visits' events by
        # prefix (entity_id LIKE 'BDX-001/%'), which a collation other than "C" cannot
        # answer from a plain index; equality lookups use the index all the same.
        sa.Index(
            "ix_audit_event_entity",
            "entity",
            "entity_id",
            postgresql_ops={"entity_id": "varchar_pattern_ops"},
        ),
        # The dashboards' SAE clock finds when an event became serious by the item's path
        # (field LIKE 'AE[%].AESER'): by prefix, not by reading the whole trail.
        sa.Index("ix_audit_event_field", "field", postgresql_ops={"field": "varchar_pattern_ops"}),
    )


class AuditHead(Base):
    """The single row holding the chain's last position and hash.

    Appending updates this row first, which takes a write lock: concurrent writers queue
    up behind it instead of forking the chain. It also reveals events deleted at the tail.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    #: HMAC of a constant under the audit key, set by the first event: tells a wrong key
    #: apart from a tampered trail, and stops a worker with another key from writing.
    key_check: Mapped[str | None] = mapped_column(sa.String(64))
