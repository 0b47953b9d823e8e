"""An investigator's electronic signature, bound to the hash of what it signs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.auth.models import User
from ecrf.db import Base, utcnow
from ecrf.records.models import Subject, str_enum


class Scope(StrEnum):
    """What a signature covers."""

    #: One visit (with its repeat key): its date and every form entered at it.
    VISIT = "visit"
    #: The inclusion decision: the decision with its reason, and the data it rests on.
    INCLUSION = "inclusion"
    #: The whole casebook: every visit, and the subject's status.
    CASEBOOK = "casebook"


class SignatureState(StrEnum):
    VALID = "valid"
    #: The signed content changed after signing: the signature no longer holds.
    INVALIDATED = "invalidated"


class ChangeKind(StrEnum):
    """The kind of write that invalidated a signature."""

    FORM_SAVED = "form_saved"
    ROW_REMOVED = "row_removed"
    VISIT_DATE = "visit_date"
    STATUS = "status"


class Signature(Base):
    """An investigator's signature of a visit, the inclusion decision or a casebook.

    What was shown at signing is kept as it was (printed name, role, the meaning statement
    verbatim, the UTC time), with the SHA-256 of the signed content: a later change to that
    content invalidates the signature, with what changed, who changed it and when. A
    signature is never deleted nor revalidated; the investigator signs again.
    """

    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("subject.id"), index=True)
    scope: Mapped[Scope] = mapped_column(str_enum(Scope, 10))
    #: The visit signed (scope VISIT only).
    visit_oid: Mapped[str | None] = mapped_column(sa.String(40))
    visit_repeat: Mapped[int | None]
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: The signer's full name as printed at signing (11.50(a)(1)).
    printed_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    #: The meaning of the signature, the statement the signer saw, verbatim (11.50(a)(3)).
    meaning: Mapped[str] = mapped_column(sa.Text)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: SHA-256 (hex) of the canonical form of the signed content (11.70).
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    #: Queries not closed on the signed content at signing, signed over knowingly.
    open_queries: Mapped[int] = mapped_column(default=0)
    state: Mapped[SignatureState] = mapped_column(
        str_enum(SignatureState, 12), default=SignatureState.VALID
    )
    invalidated_at: Mapped[datetime | None]
    invalidated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: What invalidated it: the kind of change and where (as the audit trail names it).
    change_kind: Mapped[ChangeKind | None] = mapped_column(str_enum(ChangeKind, 12))
    change_where: Mapped[str | None] = mapped_column(sa.Text)

    subject: Mapped[Subject] = relationship()
    signer: Mapped[User] = relationship(foreign_keys=[signer_id])
    invalidated_by: Mapped[User | None] = relationship(foreign_keys=[invalidated_by_id])

    @property
    def valid(self) -> bool:
        return self.state is SignatureState.VALID
