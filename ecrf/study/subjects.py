"""Subjects and their visits: registration, status, visit dates and windows.

Every function checks the actor's right at the subject's site, flushes, and records its
audit events; none commits (the caller owns the transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission, sites_with
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.errors import NotFound, RuleViolation
from ecrf.extensions import db
from ecrf.records import dates
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
from ecrf.study import gates
from ecrf.study.eligibility import assess
from ecrf.study.schedule import applicable, fits_calendar, reference_dates, visit_window
from forms.language import VisitKind


def register_subject(site: Site, *, actor: User | None, number: int | None = None) -> Subject:
    """Register a new subject at ``site`` with the next number (SITE-001, SITE-002...).

    The number comes from an UPDATE of the site row, which locks it: two registrations at
    once get different numbers. A subject migrated from another system keeps its number
    (``number``): the site's counter moves past it, so later numbers never collide; a
    number already taken fails on the unique constraint, like any double registration.
    """
    if actor is not None:
        require_permission(actor, Perm.ENTER_DATA, site.id)
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
    return db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier.upper()))


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


@dataclass(frozen=True)
class VisitDateResult:
    visit: SubjectVisit
    out_of_window: bool
    window: tuple[date, date, date] | None


def lock_subject(subject: Subject) -> None:
    """Hold the subject's row lock until the transaction ends: writes to one subject queue.

    Each write then reads the data the previous one committed (derivations and checks span
    forms), and two first saves cannot both create one visit or form. A no-op UPDATE rather
    than SELECT ... FOR UPDATE, which SQLite ignores: there it takes the database's write
    lock and really opens the transaction, so that a later SAVEPOINT nests in it instead of
    starting (and, on release, committing) a transaction of its own under pysqlite.
    """
    db.session.execute(
        sa.update(Subject)
        .where(Subject.id == subject.id)
        .values(number=Subject.number)
        .execution_options(synchronize_session=False)
    )


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


def set_visit_date(
    study: LoadedStudy,
    subject: Subject,
    visit_oid: str,
    visit_date: date | None,
    *,
    actor: User | None,
    repeat_key: int = 1,
    deviation_reason: str | None = None,
    reason: str | None = None,
    today: date | None = None,
) -> VisitDateResult:
    """Record the day a visit took place, checking it against the visit's window.

    A date outside the window is a protocol deviation: it is accepted only with a
    ``deviation_reason``, and flagged. Changing a date already recorded needs ``reason``.
    The date lies from 1900 to ``today`` (the day of the save, default the UTC date), and
    for visits of the study itself (``Visit.timing``) between the informed consent and the
    end of study when those are recorded. Before consent only the visits the definition
    opens before it take a date; after the end of participation a visit not started yet
    takes none (``gates``).

    :raises NotFound: no such visit, or no such occurrence of it.
    :raises RuleViolation: implausible or future date, a date the schedule cannot be
        computed from, missing reasons, visit not for this subject, a date the gates refuse.
    """
    if actor is not None:
        require_permission(actor, Perm.ENTER_DATA, subject.site_id)
    definition = study.visits.get(visit_oid)
    if definition is None or definition.kind is VisitKind.LOG:
        raise NotFound("No such visit in the study.")
    if definition.kind is VisitKind.SCHEDULED and repeat_key != 1:
        raise NotFound("A scheduled visit takes place once.")
    lock_subject(subject)
    data = SubjectData.load(study, subject)
    if definition.kind is VisitKind.UNSCHEDULED and (visit_oid, repeat_key) not in data.visits:
        raise NotFound("This unscheduled visit does not exist.")
    if not applicable(study, data, definition):
        raise RuleViolation(f"{definition.name} does not apply to this subject.")
    today = today or utcnow().date()
    if visit_date is not None:
        _check_visit_date(study, data, definition, visit_date, today)
        gates.check_visit_date(study, subject, data, visit_oid, repeat_key)
    visit = ensure_visit(subject, visit_oid, repeat_key)
    old = visit.visit_date
    if old == visit_date:
        return VisitDateResult(visit, visit.out_of_window, None)
    if old is not None and not (reason or "").strip():
        raise RuleViolation("Give the reason for changing the visit date.", field="reason")
    # Against the schedule as it will be: a visit that dates its own reference (the
    # baseline visit is D0) is on time by definition, not measured from its old date.
    moved = {visit_oid: visit_date} if repeat_key == 1 else None
    references = reference_dates(study, data, moved)
    if not fits_calendar(study, references):
        raise RuleViolation(VISIT_DATE_OFF_CALENDAR, field="visit_date")
    window = visit_window(definition, references)
    outside = bool(window and visit_date and not window[1] <= visit_date <= window[2])
    if outside and not (deviation_reason or "").strip():
        _, earliest, latest = window
        raise RuleViolation(
            f"{visit_date.isoformat()} is outside the window of {definition.name} "
            f"({earliest.isoformat()} to {latest.isoformat()}): this is a protocol deviation; "
            "give its reason to record the visit.",
            field="deviation_reason",
        )
    visit.visit_date = visit_date
    visit.out_of_window = outside
    visit.deviation_reason = deviation_reason.strip() if outside and deviation_reason else None
    db.session.flush()
    entity_id = f"{subject.identifier}/{visit_oid}/{repeat_key}"
    record_event(
        "visit_date_set",
        "visit",
        entity_id,
        actor=actor,
        site_id=subject.site_id,
        field="visit_date",
        old=old.isoformat() if old else None,
        new=visit_date.isoformat() if visit_date else None,
        reason=(reason or "").strip() or None,
        definition_version=study.version,
    )
    if outside:
        record_event(
            "protocol_deviation",
            "visit",
            entity_id,
            actor=actor,
            site_id=subject.site_id,
            field="out_of_window",
            new=f"{visit_date} outside {window[1]}..{window[2]}",
            reason=visit.deviation_reason,
            definition_version=study.version,
        )
    return VisitDateResult(visit, outside, window)


VISIT_DATE_FUTURE = "A visit date cannot be in the future."
VISIT_DATE_OFF_CALENDAR = "The visit schedule cannot be computed from this date."


def _check_visit_date(study, data: SubjectData, definition, visit_date: date, today: date):
    """Refuse, at the visit-date field, a date no visit of this study can have."""
    if visit_date > today:
        raise RuleViolation(VISIT_DATE_FUTURE, field="visit_date")
    problem = dates.year_problem(visit_date.year, today)
    if problem is None:
        consent = end = None
        if study.study.consent:
            consent = data.value(*study.study.consent.split("."))
        if study.study.end_of_study:
            end = data.value(*study.study.end_of_study.split("."))
        problem = dates.timing_problem(
            visit_date, definition.timing, today=today, consent=consent, end=end
        )
    if problem:
        raise RuleViolation(problem, field="visit_date")


def add_unscheduled_visit(
    study: LoadedStudy, subject: Subject, visit_oid: str, visit_date: date, *, actor: User | None
) -> SubjectVisit:
    """Open a new occurrence of an unscheduled visit."""
    if actor is not None:
        require_permission(actor, Perm.ENTER_DATA, subject.site_id)
    definition = study.visits.get(visit_oid)
    if definition is None or definition.kind is not VisitKind.UNSCHEDULED:
        raise RuleViolation("Only unscheduled visits can be added.")
    lock_subject(subject)  # two additions at once get different repeat keys
    last = db.session.scalar(
        sa.select(sa.func.max(SubjectVisit.repeat_key)).where(
            SubjectVisit.subject_id == subject.id, SubjectVisit.visit_oid == visit_oid
        )
    )
    repeat_key = (last or 0) + 1
    visit = ensure_visit(subject, visit_oid, repeat_key)
    set_visit_date(study, subject, visit_oid, visit_date, actor=actor, repeat_key=repeat_key)
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
