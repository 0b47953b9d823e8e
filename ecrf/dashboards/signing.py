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
#: The order of a subject's rows.
ORDER = {scope: n for n, scope in enumerate(Scope)}
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
    (they grow until the end). One statement whatever the number of subjects: the database
    finds what awaits a signature and drops what is signed."""
    counts: dict[Scope, Counter[int]] = {scope: Counter() for scope in Scope}
    again: Counter[int] = Counter()
    rows = []
    found = db.session.execute(_unsigned(ctx)).all()
    # An invalidated signature first, then by subject, and a subject's in the scopes' order.
    found.sort(
        key=lambda r: (not r[4], ctx.subjects[r[0]][1], r[0], ORDER[r[1]], r[2] or "", r[3] or 0)
    )
    for subject_id, scope_value, visit_oid, repeat, was_signed in found:
        scope = Scope(scope_value)
        site_id, identifier = ctx.subjects[subject_id]
        counts[scope][site_id] += 1
        again[site_id] += bool(was_signed)
        name = None
        if visit_oid is not None:
            name = ctx.study.visits[visit_oid].name
            if repeat and repeat != 1:
                name = f"{name} #{repeat}"
        rows.append(
            SigningRow(site_id, identifier, scope, visit_oid, repeat, name, bool(was_signed))
        )
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


def _unsigned(ctx: Context) -> sa.Select:
    """(subject id, scope, visit, repeat key, invalidated) of what awaits a signature in the
    scope's sites and has no valid one; invalidated: a signature of it was invalidated."""
    sites = ctx.scope.site_ids
    signable = [oid for oid, v in ctx.study.visits.items() if v.kind is not VisitKind.LOG]
    complete = sa.func.sum(sa.case((FormEntry.status == EntryStatus.COMPLETE, 1), else_=0))
    visits = (
        sa.select(
            SubjectVisit.subject_id.label("subject_id"),
            sa.literal(Scope.VISIT.value, sa.String).label("scope"),
            SubjectVisit.visit_oid.label("visit_oid"),
            SubjectVisit.repeat_key.label("repeat"),
        )
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .join(Subject, SubjectVisit.subject_id == Subject.id)
        .where(Subject.site_id.in_(sites), SubjectVisit.visit_oid.in_(signable))
        .group_by(SubjectVisit.subject_id, SubjectVisit.visit_oid, SubjectVisit.repeat_key)
        .having(sa.func.count(FormEntry.id) == complete)
    )
    no_visit = (sa.cast(sa.null(), sa.String), sa.cast(sa.null(), sa.Integer))
    decision = (
        sa.select(AuditEvent.id)
        .where(
            AuditEvent.action == "subject_status_changed",
            AuditEvent.entity == "subject",
            AuditEvent.entity_id == Subject.identifier,
            AuditEvent.new.in_(DECISIONS),
        )
        .exists()
    )
    decided = sa.select(Subject.id, sa.literal(Scope.INCLUSION.value, sa.String), *no_visit).where(
        Subject.site_id.in_(sites), decision
    )
    ended = sa.select(Subject.id, sa.literal(Scope.CASEBOOK.value, sa.String), *no_visit).where(
        Subject.site_id.in_(sites), Subject.status.in_(ENDED)
    )
    awaiting = sa.union_all(visits, decided, ended).subquery()

    def signature(state: SignatureState) -> sa.Exists:
        return (
            sa.select(Signature.id)
            .where(
                Signature.subject_id == awaiting.c.subject_id,
                Signature.scope == awaiting.c.scope,
                Signature.visit_oid.is_not_distinct_from(awaiting.c.visit_oid),
                Signature.visit_repeat.is_not_distinct_from(awaiting.c.repeat),
                Signature.state == state,
            )
            .exists()
        )

    return sa.select(
        awaiting.c.subject_id,
        awaiting.c.scope,
        awaiting.c.visit_oid,
        awaiting.c.repeat,
        signature(SignatureState.INVALIDATED),
    ).where(~signature(SignatureState.VALID))
