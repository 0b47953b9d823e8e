"""A monitoring visit at a site: the day a monitor was there (what changed since is what the
next visit prepares)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.auth.models import User
from ecrf.db import Base, utcnow
from ecrf.records.models import Site


class MonitoringVisit(Base):
    """One on-site (or remote) monitoring visit, recorded by the monitor who made it."""

    __tablename__ = "monitoring_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    #: The day of the visit (UTC calendar day).
    visit_date: Mapped[date] = mapped_column(sa.Date)
    monitor_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()
    monitor: Mapped[User] = relationship()
