"""The dashboard's signatures section: what awaits the investigator's signature, and the
signatures a later change invalidated that nobody signed again."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.dashboards.sections import Column, Context, Section
from ecrf.extensions import db
from ecrf.records.models import EntryStatus, FormEntry, Subject, SubjectStatus, SubjectVisit
from ecrf.signatures.models import Scope, Signature, SignatureState
from forms.language import VisitKind

TEXT = {
    "title": "Investigator signatures",
    "visits": "Visits to sign",
    "inclusion": "Inclusion decisions to sign",
    "casebooks": "Casebooks to sign",
    "invalidated": "Invalidated, not signed again",
}
#: What each row awaits, as the section's table names it.
WHAT = {
    Scope.VISIT: "Visit {visit}",
    Scope.INCLUSION: "Inclusion decision",
    Scope.CASEBOOK: "Casebook",
}
#: A subject whose participation is over: its casebook awaits the investigator's signature.
ENDED = (SubjectStatus.COMPLETED, SubjectStatus.WITHDRAWN, SubjectStatus.SCREEN_FAILURE)
#: The first decision out of screening, which the inclusion signature attests.
DECISIONS = (SubjectStatus.INCLUDED.value, SubjectStatus.SCREEN_FAILURE.value)


@dataclass(frozen=True)
class SigningRow:
    site_id: int
    subject: str
    scope: Scope
    visit_oid: str | None
    visit_repeat: int | None
    visit: str | None
    #: True: signed once, then invalidated by a change.
    invalidated: bool


def signatures(ctx: Context) -> Section:
    """Per site: the visits whose forms are all complete, the inclusion decisions made and
    the casebooks of subjects who left, none with a valid signature; and, among them, those
    whose signature a later change invalidated. Logs are left to the casebook's signature
    (they grow until the end). A fixed number of statements whatever the number of
    subjects."""
    sites = ctx.scope.site_ids
    valid = {
        (subject_id, scope, visit_oid, repeat)
        for subject_id, scope, visit_oid, repeat in db.session.execute(
            sa.select(
                Signature.subject_id, Signature.scope, Signature.visit_oid, Signature.visit_repeat
            )
            .join(Subject, Signature.subject_id == Subject.id)
            .where(Subject.site_id.in_(sites), Signature.state == SignatureState.VALID)
        )
    }
    invalidated = {
        (subject_id, scope, visit_oid, repeat)
        for subject_id, scope, visit_oid, repeat in db.session.execute(
            sa.select(
                Signature.subject_id, Signature.scope, Signature.visit_oid, Signature.visit_repeat
            )
            .join(Subject, Signature.subject_id == Subject.id)
            .where(Subject.site_id.in_(sites), Signature.state == SignatureState.INVALIDATED)
        )
    }
    complete = sa.func.sum(sa.case((FormEntry.status == EntryStatus.COMPLETE, 1), else_=0))
    visits = db.session.execute(
        sa.select(SubjectVisit.subject_id, SubjectVisit.visit_oid, SubjectVisit.repeat_key)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .join(Subject, SubjectVisit.subject_id == Subject.id)
        .where(Subject.site_id.in_(sites))
        .group_by(SubjectVisit.subject_id, SubjectVisit.visit_oid, SubjectVisit.repeat_key)
        .having(sa.func.count(FormEntry.id) == complete)
    ).all()
    decided = db.session.scalars(
        sa.select(Subject.id)
        .where(
            Subject.site_id.in_(sites),
            sa.select(AuditEvent.id)
            .where(
                AuditEvent.action == "subject_status_changed",
                AuditEvent.entity == "subject",
                AuditEvent.entity_id == Subject.identifier,
                AuditEvent.new.in_(DECISIONS),
            )
            .exists(),
        )
        .order_by(Subject.id)
    ).all()
    awaiting: list[tuple[int, Scope, str | None, int | None]] = [
        (subject_id, Scope.VISIT, visit_oid, repeat)
        for subject_id, visit_oid, repeat in visits
        if visit_oid in ctx.study.visits and ctx.study.visits[visit_oid].kind is not VisitKind.LOG
    ]
    awaiting += [(subject_id, Scope.INCLUSION, None, None) for subject_id in decided]
    awaiting += [
        (subject_id, Scope.CASEBOOK, None, None)
        for subject_id, status in _statuses(ctx).items()
        if status in ENDED
    ]
    counts: dict[Scope, Counter[int]] = {scope: Counter() for scope in Scope}
    again: Counter[int] = Counter()
    rows = []
    for key in sorted(awaiting, key=_order):
        if key in valid:
            continue
        subject_id, scope, visit_oid, repeat = key
        site_id, identifier = ctx.subjects[subject_id]
        counts[scope][site_id] += 1
        was_signed = key in invalidated
        again[site_id] += was_signed
        name = None
        if visit_oid is not None:
            name = ctx.study.visits[visit_oid].name
            if repeat and repeat != 1:
                name = f"{name} #{repeat}"
        rows.append(SigningRow(site_id, identifier, scope, visit_oid, repeat, name, was_signed))
    rows.sort(key=lambda r: (not r.invalidated, r.subject))
    return Section(
        "signatures",
        TEXT["title"],
        [
            Column(TEXT["visits"], dict(counts[Scope.VISIT])),
            Column(TEXT["inclusion"], dict(counts[Scope.INCLUSION])),
            Column(TEXT["casebooks"], dict(counts[Scope.CASEBOOK])),
            Column(TEXT["invalidated"], dict(again), alarm=True),
        ],
        rows,
        extra={"what": WHAT},
    )


def _statuses(ctx: Context) -> dict[int, SubjectStatus]:
    return {
        subject_id: status
        for subject_id, status in db.session.execute(
            sa.select(Subject.id, Subject.status).where(Subject.site_id.in_(ctx.scope.site_ids))
        )
    }


def _order(key: tuple[int, Scope, str | None, int | None]) -> tuple:
    subject_id, scope, visit_oid, repeat = key
    return (subject_id, list(Scope).index(scope), visit_oid or "", repeat or 0)
