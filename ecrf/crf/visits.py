"""Visits dated: the day a visit took place, and new occurrences of unscheduled visits.

A visit's date is captured data (SDTM SV): recording it checks the schedule, and re-runs
the derivations and edit checks that read it, directly ("@VISIT_DATE") or through the
reference dates and windows it sets ("@D0"), like a save of a form re-runs what its
changes reach. Every function checks the actor's right at the subject's site, flushes,
and records its audit events; none commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission
from ecrf.auth.roles import Perm
from ecrf.crf.evaluate import run_checks, run_derivations
from ecrf.crf.save.findings import sync_findings
from ecrf.crf.save.write import write_derived
from ecrf.db import utcnow
from ecrf.errors import NotFound, RuleViolation
from ecrf.extensions import db
from ecrf.locks.services import refuse_if_locked
from ecrf.records import dates
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Subject, SubjectVisit
from ecrf.signatures import services as signatures
from ecrf.study import gates
from ecrf.study.schedule import applicable, fits_calendar, reference_dates, visit_window
from ecrf.study.subjects import ensure_visit, lock_subject
from forms.language import VisitKind


@dataclass(frozen=True)
class VisitDateResult:
    visit: SubjectVisit
    out_of_window: bool
    window: tuple[date, date, date] | None


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
    refuse_if_locked(study, subject, visit_oid, repeat_key)
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
        given = (deviation_reason or "").strip()
        if visit.out_of_window and given and given != visit.deviation_reason:
            _explain_deviation(study, subject, visit, given, actor=actor)
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
        _record_deviation(
            study, subject, entity_id, visit_date, window, visit.deviation_reason, actor
        )
    data.visits[(visit_oid, repeat_key)] = visit
    rerun_rules(study, subject, data, (visit_oid, repeat_key), actor=actor, today=today)
    signatures.after_visit_dated(study, subject, visit_oid, repeat_key, actor=actor)
    # A visit that dates a reference (PET-IAH is D0, THER is T0) moves the windows of the
    # visits already dated from it.
    recheck_windows(study, subject, data, actor=actor)
    return VisitDateResult(visit, outside, window)


def _explain_deviation(
    study: LoadedStudy, subject: Subject, visit: SubjectVisit, reason: str, *, actor: User | None
) -> None:
    """The reason of a deviation already flagged (a move of D0 or T0 put the visit outside
    its window after it was dated), given on the visit's date form."""
    visit.deviation_reason = reason
    db.session.flush()
    record_event(
        "protocol_deviation",
        "visit",
        f"{subject.identifier}/{visit.visit_oid}/{visit.repeat_key}",
        actor=actor,
        site_id=subject.site_id,
        field="deviation_reason",
        new=reason,
        reason=reason,
        definition_version=study.version,
    )
    signatures.after_visit_dated(study, subject, visit.visit_oid, visit.repeat_key, actor=actor)


@dataclass(frozen=True)
class WindowChange:
    """A dated visit whose place in its window changed with its reference date."""

    visit: SubjectVisit
    outside: bool
    window: tuple[date, date, date]


def recheck_windows(
    study: LoadedStudy, subject: Subject, data: SubjectData, *, actor: User | None
) -> list[WindowChange]:
    """Check every dated visit against its window from the reference dates as they are now
    (D0 planned or done, T0), after a save or a visit date moved one.

    A visit the move puts outside its window becomes a protocol deviation (flagged, its
    reason still to give: the site gives it on the visit's date form); one it brings back
    into its window is cleared. Each change is audited (``protocol_deviation`` or
    ``protocol_deviation_cleared``, naming the window) and withdraws the signatures over
    that visit, like a visit date changed. A visit whose reference is unknown keeps its
    flag: nothing to measure it against.
    """
    references = reference_dates(study, data)
    if not fits_calendar(study, references):
        return []
    changed = []
    for (visit_oid, repeat_key), visit in sorted(data.visits.items()):
        definition = study.visits.get(visit_oid)
        if definition is None or visit.visit_date is None:
            continue
        window = visit_window(definition, references)
        if window is None:
            continue
        outside = not window[1] <= visit.visit_date <= window[2]
        if outside == visit.out_of_window:
            continue
        entity_id = f"{subject.identifier}/{visit_oid}/{repeat_key}"
        span = f"{window[1]}..{window[2]}"
        if outside:
            _record_deviation(
                study, subject, entity_id, visit.visit_date, window, WINDOW_MOVED, actor
            )
        else:
            record_event(
                "protocol_deviation_cleared",
                "visit",
                entity_id,
                actor=actor,
                site_id=subject.site_id,
                field="out_of_window",
                old=visit.deviation_reason,
                new=f"{visit.visit_date} inside {span}",
                reason=WINDOW_MOVED,
                definition_version=study.version,
            )
            visit.deviation_reason = None
        visit.out_of_window = outside
        db.session.flush()
        signatures.after_visit_dated(study, subject, visit_oid, repeat_key, actor=actor)
        changed.append(WindowChange(visit, outside, window))
    return changed


#: Why a visit's deviation flag changed without its date changing.
WINDOW_MOVED = "The reference date of the visit's window (D0 or T0) moved."


def rerun_rules(
    study: LoadedStudy,
    subject: Subject,
    data: SubjectData,
    visit: tuple[str, int],
    *,
    actor: User | None,
    today: date,
) -> None:
    """Re-run the derivations and checks that the date of ``visit`` (visit OID, repeat
    key) reaches, on ``data`` as it is now: derived values written, findings synced."""
    scope = study.rules.reach(data.entries, (), saved=None, dated=[visit])
    if not scope.derivations and not scope.checks:
        return
    derived = run_derivations(study, data, scope, today)
    found = run_checks(study, data, scope, today)
    write_derived(study, data, derived, actor, subject.site_id)
    sync_findings(study, subject, data, found, actor, checked=scope.checks)


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
    refuse_if_locked(study, subject)
    last = db.session.scalar(
        sa.select(sa.func.max(SubjectVisit.repeat_key)).where(
            SubjectVisit.subject_id == subject.id, SubjectVisit.visit_oid == visit_oid
        )
    )
    repeat_key = (last or 0) + 1
    visit = ensure_visit(subject, visit_oid, repeat_key)
    set_visit_date(study, subject, visit_oid, visit_date, actor=actor, repeat_key=repeat_key)
    return visit


def _record_deviation(study, subject, entity_id, visit_date, window, reason, actor) -> None:
    """The audit event of a visit dated outside its window (``window``: its day, first and
    last day), with the deviation's reason."""
    record_event(
        "protocol_deviation",
        "visit",
        entity_id,
        actor=actor,
        site_id=subject.site_id,
        field="out_of_window",
        new=f"{visit_date} outside {window[1]}..{window[2]}",
        reason=reason,
        definition_version=study.version,
    )
