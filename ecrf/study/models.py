"""Sites of the trial."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ecrf.db import Base, utcnow

SITE_CODE_PATTERN = r"^[A-Z0-9]{2,8}$"


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short upper-case code; it prefixes every subject identifier (BDX-001).
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Site {self.code}>"
