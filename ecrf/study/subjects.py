"""Subjects and their visits: registration, status, visit dates and windows.

Every function checks the actor's right at the subject's site, flushes, and records its
audit events; none commits (the caller owns the transaction).
"""

from __future__ import annotations

import functools

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission, sites_with
from ecrf.auth.roles import Perm
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.locks.services import refuse_if_locked, refuse_if_site_locked
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    INVESTIGATOR_DECISIONS,
    SUBJECT_TRANSITIONS,
    Site,
    Subject,
    SubjectStatus,
    SubjectVisit,
)
from ecrf.signatures import services as signatures
from ecrf.study.eligibility import assess


def register_subject(site: Site, *, actor: User | None, number: int | None = None) -> Subject:
    """Register a new subject at ``site`` with the next number (SITE-001, SITE-002...).

    The number comes from an UPDATE of the site row, which locks it: two registrations at
    once get different numbers. A subject migrated from another system keeps its number
    (``number``): the site's counter moves past it, so later numbers never collide; a
    number already taken fails on the unique constraint, like any double registration.
    """
    if actor is not None:
        require_permission(actor, Perm.ENTER_DATA, site.id)
    refuse_if_site_locked(site)
    if number is None:
        next_number = Site.last_subject_number + 1
    else:
        next_number = sa.case(
            (Site.last_subject_number < number, number), else_=Site.last_subject_number
        )
    counter = db.session.execute(
        sa.update(Site)
        .where(Site.id == site.id)
        .values(last_subject_number=next_number)
        .returning(Site.last_subject_number)
    ).scalar_one()
    number = counter if number is None else number
    subject = Subject(
        site_id=site.id,
        number=number,
        identifier=f"{site.code}-{number:03d}",
        status=SubjectStatus.SCREENING,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(subject)
    db.session.flush()
    record_event(
        "subject_registered",
        "subject",
        subject.identifier,
        actor=actor,
        site_id=site.id,
        field="status",
        new=subject.status.value,
    )
    return subject


def get_subject(identifier: str) -> Subject | None:
    return db.session.scalar(_subject_query(), {"identifier": identifier.upper()})


@functools.cache
def _subject_query() -> sa.Select:
    # Built once: most pages look their subject up, and a statement reused keeps its cache key.
    return sa.select(Subject).where(Subject.identifier == sa.bindparam("identifier"))


def status_permission(status: SubjectStatus) -> Perm:
    """The permission a move to ``status`` needs at the subject's site."""
    return Perm.DECIDE_STATUS if status in INVESTIGATOR_DECISIONS else Perm.ENTER_DATA


def change_status(
    study: LoadedStudy,
    subject: Subject,
    status: SubjectStatus,
    *,
    actor: User | None,
    reason: str,
) -> None:
    """Move a subject to another status along the allowed transitions.

    Inclusion is refused while any eligibility criterion of ``study`` fails, is unanswered
    or contradicts the data (R6: operational checks enforce the protocol's sequence).
    Inclusion, screen failure and withdrawal are the investigator's decisions
    (``Perm.DECIDE_STATUS``); a screen failure records every criterion the eligibility
    engine finds not met or contradicted.

    :raises PermissionDenied: the actor may not make this change at the subject's site.
    :raises RuleViolation: a transition the protocol does not allow, no reason, or a
        subject not eligible.
    """
    if actor is not None:
        require_permission(actor, status_permission(status), subject.site_id)
    lock_subject(subject)  # two changes at once: the second sees the first's status
    db.session.refresh(subject, ["status"])
    refuse_if_locked(study, subject)
    if status not in SUBJECT_TRANSITIONS[subject.status]:
        raise RuleViolation(
            f"A subject in {subject.status.label.lower()} cannot become {status.label.lower()}.",
            field="status",
        )
    if not reason.strip():
        raise RuleViolation("Give the reason for the change of status.", field="reason")
    reason = reason.strip()
    if status is SubjectStatus.SCREEN_FAILURE and study.study.eligibility:
        failing = assess(study, SubjectData.load(study, subject)).failing
        if failing:
            reason += f" [criteria not met: {', '.join(r.criterion.id for r in failing)}]"
    if status is SubjectStatus.INCLUDED and study.study.eligibility:
        assessment = assess(study, SubjectData.load(study, subject))
        if not assessment.eligible:
            raise RuleViolation(
                "Inclusion is not possible while eligibility criteria are not all satisfied: "
                + assessment.summary(assessment.blocking)
                + ".",
                field="status",
            )
    old = subject.status
    subject.status = status
    subject.status_reason = reason
    db.session.flush()
    record_event(
        "subject_status_changed",
        "subject",
        subject.identifier,
        actor=actor,
        site_id=subject.site_id,
        field="status",
        old=old.value,
        new=status.value,
        reason=reason,
    )
    signatures.after_status_changed(study, subject, actor=actor)


def lock_subject(subject: Subject) -> bool:
    """Hold the subject's row lock until the transaction ends: writes to one subject queue;
    return whether this transaction took it just now (False: it held it already). The
    subject object is refreshed from the locked row.

    Each write then reads the data the previous one committed (derivations and checks span
    forms), and two first saves cannot both create one visit or form. A no-op UPDATE rather
    than SELECT ... FOR UPDATE, which SQLite ignores: there it takes the database's write
    lock and really opens the transaction, so that a later SAVEPOINT nests in it instead of
    starting (and, on release, committing) a transaction of its own under pysqlite.
    """
    # RETURNING the row refreshes ``subject`` in the same statement: read after the lock.
    db.session.execute(
        sa.update(Subject)
        .where(Subject.id == subject.id)
        .values(number=Subject.number)
        .returning(Subject)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()
    transaction = db.session().get_transaction()
    held = db.session.info.get(_LOCKS_HELD)
    if held is None or held[0] is not transaction:
        held = db.session.info[_LOCKS_HELD] = (transaction, set())
    first = subject.id not in held[1]
    held[1].add(subject.id)
    return first


#: Session info key: (the transaction, ids of the subjects it locked).
_LOCKS_HELD = "ecrf.subjects_locked"


def ensure_visit(subject: Subject, visit_oid: str, repeat_key: int = 1) -> SubjectVisit:
    visit = db.session.scalar(
        sa.select(SubjectVisit).where(
            SubjectVisit.subject_id == subject.id,
            SubjectVisit.visit_oid == visit_oid,
            SubjectVisit.repeat_key == repeat_key,
        )
    )
    if visit is None:
        visit = SubjectVisit(subject_id=subject.id, visit_oid=visit_oid, repeat_key=repeat_key)
        db.session.add(visit)
        db.session.flush()
    return visit


def visible_subjects_query(
    user: User | None, *, site_code: str | None = None, status: SubjectStatus | None = None
) -> sa.Select:
    """Subjects the user may see, filtered; ordered by identifier."""
    query = sa.select(Subject).join(Site).order_by(Site.code, Subject.number)
    if user is not None:
        site_ids = sites_with(user, Perm.VIEW_SUBJECTS)
        if site_ids is not None:
            query = query.where(Subject.site_id.in_(site_ids))
    if site_code:
        query = query.where(Site.code == site_code.upper())
    if status is not None:
        query = query.where(Subject.status == status)
    return query
