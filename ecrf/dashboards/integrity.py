"""Monitoring visits held against the audit trail, both ways: a visit planted, deleted,
moved to another site or day, or given to another monitor in the database, is seen by
`ecrf audit verify`."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.dashboards.models import MonitoringVisit
from ecrf.extensions import db


class MonitoringVisitReconciler:
    """Rebuilds each monitoring visit (site, day, monitor) from the trail."""

    def __init__(self) -> None:
        self.visits: dict[int, tuple[int | None, str | None, int | None]] = {}

    def handlers(self):
        return {"monitoring_visit_recorded": self._recorded}

    def _recorded(self, event: Event) -> None:
        self.visits[int(event.entity_id)] = (event.site_id, event.new, event.actor_id)

    def compare(self, problems: Problems) -> None:
        for visit in db.session.scalars(sa.select(MonitoringVisit).order_by(MonitoringVisit.id)):
            expected = self.visits.pop(visit.id, None)
            stored = (visit.site_id, visit.visit_date.isoformat(), visit.monitor_id)
            if expected is None:
                problems.add(f"monitoring visit {visit.id} has no record in the trail")
            elif expected != stored:
                problems.add(
                    f"monitoring visit {visit.id} is not the one the trail recorded "
                    "(site, day or monitor changed)"
                )
        for visit_id in sorted(self.visits):
            problems.add(
                f"monitoring visit {visit_id} is missing from the data but the trail recorded it"
            )
