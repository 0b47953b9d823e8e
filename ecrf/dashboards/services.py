"""Record a monitoring visit at a site (monitors only, at their sites; audited).

Like every service: checks the actor's right at the target's site, flushes, records its
audit event; never commits (the caller owns the transaction).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission
from ecrf.auth.roles import Perm
from ecrf.dashboards.models import MonitoringVisit
from ecrf.db import utcnow
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.records.fields import FieldError, parse_day
from ecrf.records.models import Site

#: Who records monitoring visits and prepares the next: the monitors (those who verify
#: source data at the site).
MONITOR_PERM = Perm.VERIFY_SOURCE

DATE_NEEDED = "Give the date of the visit."
IN_FUTURE = "The visit cannot be in the future."


def record_visit(site: Site, visit_date: str | date | None, *, actor: User) -> MonitoringVisit:
    """Record that ``actor`` made a monitoring visit at ``site`` on ``visit_date``.

    :raises PermissionDenied: the actor is not a monitor of the site.
    :raises RuleViolation: no date, not a real date, or one in the future.
    """
    require_permission(actor, MONITOR_PERM, site.id)
    if isinstance(visit_date, str):
        if not visit_date.strip():
            raise RuleViolation(DATE_NEEDED, field="visit_date")
        try:
            visit_date = parse_day(visit_date)
        except FieldError as error:
            raise RuleViolation(str(error), field="visit_date") from None
    if visit_date is None:
        raise RuleViolation(DATE_NEEDED, field="visit_date")
    if visit_date > utcnow().date():
        raise RuleViolation(IN_FUTURE, field="visit_date")
    visit = MonitoringVisit(site_id=site.id, visit_date=visit_date, monitor_id=actor.id)
    db.session.add(visit)
    db.session.flush()
    record_event(
        "monitoring_visit_recorded",
        "monitoring_visit",
        visit.id,
        actor=actor,
        site_id=site.id,
        field="visit_date",
        new=visit_date.isoformat(),
    )
    return visit


def last_visit(site: Site) -> MonitoringVisit | None:
    """The site's latest monitoring visit, by whichever monitor."""
    return db.session.scalar(
        sa.select(MonitoringVisit)
        .where(MonitoringVisit.site_id == site.id)
        .order_by(MonitoringVisit.visit_date.desc(), MonitoringVisit.id.desc())
        .limit(1)
    )


def visits_of(site: Site, limit: int = 5) -> list[MonitoringVisit]:
    return list(
        db.session.scalars(
            sa.select(MonitoringVisit)
            .where(MonitoringVisit.site_id == site.id)
            .order_by(MonitoringVisit.visit_date.desc(), MonitoringVisit.id.desc())
            .limit(limit)
        )
    )
