"""The monitor's preparation of the next visit at one site: what changed since the last
monitoring visit, the forms to verify, the queries not closed.

"Since the last visit" counts from the start (00:00 UTC) of the visit's day: a change made
on that day after the monitor left is shown rather than missed. Without any visit recorded,
everything since the site started.

Until source-data verification plugs in, the forms to verify are the complete forms changed
since the last visit, the study's critical forms first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.audit.models import AuditEvent
from ecrf.dashboards.models import MonitoringVisit
from ecrf.dashboards.services import last_visit
from ecrf.extensions import db
from ecrf.queries.models import Query, QueryState
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, Site, Subject, SubjectVisit
from ecrf.sdv.progress import site_percentages, subject_progress

#: The audit trail's actions as the preparation list counts them, in this order.
CHANGE_LABELS = {
    "subject_registered": "Subjects registered",
    "subject_status_changed": "Subject status changes",
    "visit_date_set": "Visit dates recorded or changed",
    "form_completed": "Forms completed",
    "item_entered": "Values entered",
    "item_changed": "Values changed",
    "item_cleared": "Values cleared",
    "row_removed": "Rows removed",
    "query_opened": "Queries opened",
    "query_answered": "Queries answered",
    "query_closed": "Queries closed",
    "query_reopened": "Queries reopened",
    "query_resolved": "Queries closed by the data",
    "source_verified": "Values verified",
    "verification_withdrawn": "Verifications withdrawn by a change",
    "signature_signed": "Signatures",
    "signature_invalidated": "Signatures invalidated by a change",
    "data_locked": "Locks",
    "data_unlocked": "Unlocks",
}
#: The actions on a form entry that change what must be verified.
FORM_CHANGES = ("item_entered", "item_changed", "item_cleared", "row_removed", "form_completed")


@dataclass(frozen=True)
class FormToVerify:
    subject: str
    visit_oid: str
    visit: str
    repeat_key: int
    form_oid: str
    form: str
    critical: bool
    #: Values to verify, and among them those whose verification a change withdrew.
    pending: int
    withdrawn: int
    #: Changes since the last monitoring visit (0: none), and when the last one was.
    changes: int
    last_change: datetime | None


@dataclass
class Preparation:
    site: Site
    last: MonitoringVisit | None
    since: datetime | None
    #: (label, count) of what changed, in CHANGE_LABELS' order, those that happened.
    changes: list[tuple[str, int]]
    to_verify: list[FormToVerify]
    queries: list[Query]


def since_of(visit: MonitoringVisit | None) -> datetime | None:
    return datetime.combine(visit.visit_date, time.min, UTC) if visit else None


def prepare(study: LoadedStudy, site: Site) -> Preparation:
    """The visit preparation of ``site`` (the caller checked the user is its monitor)."""
    last = last_visit(site)
    since = since_of(last)
    events = sa.select(AuditEvent.action, sa.func.count()).where(
        AuditEvent.site_id == site.id, AuditEvent.action.in_(CHANGE_LABELS)
    )
    if since is not None:
        events = events.where(AuditEvent.at >= since)
    counted = dict(db.session.execute(events.group_by(AuditEvent.action)).all())
    changes = [(label, counted[a]) for a, label in CHANGE_LABELS.items() if counted.get(a)]
    return Preparation(
        site, last, since, changes, _to_verify(study, site, since), _open_queries(site)
    )


def _to_verify(study: LoadedStudy, site: Site, since: datetime | None) -> list[FormToVerify]:
    """The forms with values the verification plan asks for and no monitor verified yet
    (or whose verification a change withdrew), the critical ones first; each says how often
    it changed since ``since``."""
    subjects = list(db.session.scalars(sa.select(Subject).where(Subject.site_id == site.id)))
    if not subjects:
        return []
    progress = subject_progress(study, subjects, site_percentages(study, [site]))
    changed = _changes_by_form(site, since)
    critical = set(study.study.critical_forms)
    rows = []
    for sp in progress.values():
        for (visit_oid, repeat_key, form_oid), step in sp.forms.items():
            if step.pending <= 0:
                continue
            visit = study.visits.get(visit_oid)
            form = study.forms.get(form_oid)
            count, last = changed.get((sp.subject.id, visit_oid, repeat_key, form_oid), (0, None))
            rows.append(
                FormToVerify(
                    sp.subject.identifier,
                    visit_oid,
                    visit.name if visit else visit_oid,
                    repeat_key,
                    form_oid,
                    form.name if form else form_oid,
                    form_oid in critical,
                    step.pending,
                    step.withdrawn,
                    count,
                    last if last is None or last.tzinfo else last.replace(tzinfo=UTC),
                )
            )
    rows.sort(key=lambda r: (not r.critical, r.subject, r.visit_oid, r.repeat_key, r.form))
    return rows


def _changes_by_form(
    site: Site, since: datetime | None
) -> dict[tuple[int, str, int, str], tuple[int, datetime]]:
    """(subject id, visit, repeat, form) → (changes since ``since``, the last one's time)."""
    changed = (
        sa.select(
            AuditEvent.entity_id.label("entry"),
            sa.func.count().label("changes"),
            sa.func.max(AuditEvent.at).label("last"),
        )
        .where(
            AuditEvent.site_id == site.id,
            AuditEvent.entity == "form_entry",
            AuditEvent.action.in_(FORM_CHANGES),
        )
        .group_by(AuditEvent.entity_id)
    )
    if since is not None:
        changed = changed.where(AuditEvent.at >= since)
    changed = changed.subquery()
    found = db.session.execute(
        sa.select(
            SubjectVisit.subject_id,
            SubjectVisit.visit_oid,
            SubjectVisit.repeat_key,
            FormEntry.form_oid,
            changed.c.changes,
            changed.c.last,
        )
        .join(changed, sa.cast(FormEntry.id, sa.String) == changed.c.entry)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .join(Subject, SubjectVisit.subject_id == Subject.id)
        .where(Subject.site_id == site.id)
    ).all()
    return {(s, v, r, f): (count, last) for s, v, r, f, count, last in found}


def _open_queries(site: Site) -> list[Query]:
    return list(
        db.session.scalars(
            sa.select(Query)
            .join(Subject, Query.subject_id == Subject.id)
            .where(Subject.site_id == site.id, Query.state != QueryState.CLOSED)
            .order_by(Query.opened_at, Query.id)
            .options(
                selectinload(Query.subject),
                selectinload(Query.visit),
                selectinload(Query.entry),
                selectinload(Query.messages),
            )
        )
    )
