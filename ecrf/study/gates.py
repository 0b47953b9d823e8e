"""The gates a monitor expects around a subject's data: nothing before consent but what the
definition allows, and once participation has ended no new visit and no change without its
reason (the end-of-study documentation excepted).

The consent gate is declared by the study definition (``Study.consent``,
``before_consent``): a definition naming no consent date has none. Participation ends
with the subject's status (withdrawn, completed, screen failure) or with the data the
definition names (``ended_when``: a death recorded); its ``end_forms`` stay open. The
functions read the subject's data and never write; the write paths call them first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ecrf.errors import RuleViolation
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Subject, SubjectStatus
from forms.language import VisitKind, condition_items, holds

#: Statuses after which the subject takes part no more (a screen failure never started).
ENDED_STATUSES = frozenset(
    {SubjectStatus.WITHDRAWN, SubjectStatus.COMPLETED, SubjectStatus.SCREEN_FAILURE}
)

# User-facing text of the gates, in one place (a translation will follow).
MESSAGES = {
    "no_consent": "No consent date is recorded for {subject} yet: record the date of signed"
    " informed consent on the {consent_form} form ({consent_visit}) before entering data"
    " of {visit}.",
    "no_consent_short": "Only {allowed} can be filled in until the date of signed informed"
    " consent is recorded on the {consent_form} form.",
    "ended": "{subject} has left the study ({why}): no new visit can be started.",
    "reason": "{subject} has left the study ({why}): give the reason for this change.",
    "left": "{subject} has left the study ({why}): no new visit can be started, and every"
    " change to a form already filled in needs its reason (kept in the audit trail).",
    "left_end_forms": "{subject} has left the study ({why}): no new visit can be started, and"
    " every change to a form already filled in needs its reason (kept in the audit trail)."
    " The documentation of the end stays open: {forms}.",
    "ended_by_data": "end of participation recorded",
}


@dataclass(frozen=True)
class FormGate:
    """What a form of a subject accepts now: ``closed`` says why nothing can be saved;
    ``reason`` says why every change needs a reason (None: neither)."""

    closed: str | None = None
    reason: str | None = None


def consent_date(study: LoadedStudy, data: SubjectData) -> date | None:
    if study.study.consent is None:
        return None
    visit_oid, form_oid, item_oid = study.study.consent.split(".")
    return data.value(visit_oid, form_oid, item_oid)


def awaiting_consent(study: LoadedStudy, data: SubjectData) -> bool:
    """Whether the definition gates on consent and no consent date is recorded yet."""
    return study.study.consent is not None and consent_date(study, data) is None


def open_before_consent(study: LoadedStudy, visit_oid: str) -> bool:
    return study.study.consent is None or visit_oid in study.study.before_consent


def ended_because(study: LoadedStudy, subject: Subject, data: SubjectData) -> str | None:
    """Why the subject's participation has ended, in words; None while it goes on."""
    if subject.status in ENDED_STATUSES:
        return subject.status.label.lower()
    condition = study.study.ended_when
    if condition is not None:
        values = {}
        for ref in condition_items(condition):
            visit_oid, form_oid, item_oid = ref.split(".")
            values[ref] = data.value(visit_oid, form_oid, item_oid)
        if holds(condition, values):
            return study.study.ended_label or MESSAGES["ended_by_data"]
    return None


def visit_started(study: LoadedStudy, data: SubjectData, visit_oid: str, repeat: int) -> bool:
    """A visit has started once it has a date or data; logs are not visits: always open."""
    if study.visits[visit_oid].kind is VisitKind.LOG:
        return True
    visit = data.visits.get((visit_oid, repeat))
    if visit is not None and visit.visit_date is not None:
        return True
    return any((v, r) == (visit_oid, repeat) for v, r, _ in data.entries)


def is_end_form(study: LoadedStudy, visit_oid: str, form_oid: str) -> bool:
    return f"{visit_oid}.{form_oid}" in study.study.end_forms


def form_gate(
    study: LoadedStudy,
    subject: Subject,
    data: SubjectData,
    visit_oid: str,
    repeat: int,
    form_oid: str,
) -> FormGate:
    """What one form of the subject accepts now (see ``FormGate``)."""
    if awaiting_consent(study, data) and not open_before_consent(study, visit_oid):
        return FormGate(closed=_no_consent(study, subject, visit_oid))
    if is_end_form(study, visit_oid, form_oid):
        return FormGate()
    why = ended_because(study, subject, data)
    if why is None:
        return FormGate()
    if not visit_started(study, data, visit_oid, repeat):
        return FormGate(closed=MESSAGES["ended"].format(subject=subject.identifier, why=why))
    return FormGate(reason=MESSAGES["reason"].format(subject=subject.identifier, why=why))


def check_form_save(
    study: LoadedStudy,
    subject: Subject,
    data: SubjectData,
    visit_oid: str,
    repeat: int,
    form_oid: str,
    reason: str | None,
) -> None:
    """Refuse a save the gates do not allow.

    :raises RuleViolation: no consent yet for a visit that needs it; a new visit after the
        end of participation; a change after it without ``reason``.
    """
    gate = form_gate(study, subject, data, visit_oid, repeat, form_oid)
    if gate.closed:
        raise RuleViolation(gate.closed)
    if gate.reason and not (reason or "").strip():
        raise RuleViolation(gate.reason, field="reason")


def check_visit_date(
    study: LoadedStudy, subject: Subject, data: SubjectData, visit_oid: str, repeat: int
) -> None:
    """Refuse a visit date the gates do not allow: before consent for a visit that needs
    it, or a first date after the end of participation (a new visit).

    :raises RuleViolation: with the reason, at the visit date.
    """
    if awaiting_consent(study, data) and not open_before_consent(study, visit_oid):
        raise RuleViolation(_no_consent(study, subject, visit_oid), field="visit_date")
    why = ended_because(study, subject, data)
    if why is not None and not visit_started(study, data, visit_oid, repeat):
        raise RuleViolation(
            MESSAGES["ended"].format(subject=subject.identifier, why=why), field="visit_date"
        )


def _no_consent(study: LoadedStudy, subject: Subject, visit_oid: str) -> str:
    consent_visit, consent_form, _ = study.study.consent.split(".")
    return MESSAGES["no_consent"].format(
        subject=subject.identifier,
        consent_form=study.forms[consent_form].name.lower(),
        consent_visit=study.visits[consent_visit].name.lower(),
        visit=study.visits[visit_oid].name.lower(),
    )


def subject_notice(study: LoadedStudy, subject: Subject, data: SubjectData) -> str | None:
    """The line the subject page shows about what cannot be entered now, and why."""
    if awaiting_consent(study, data):
        consent_form = study.study.consent.split(".")[1]
        allowed = " and ".join(study.visits[v].name.lower() for v in study.study.before_consent)
        return MESSAGES["no_consent_short"].format(
            allowed=allowed or "nothing", consent_form=study.forms[consent_form].name.lower()
        )
    why = ended_because(study, subject, data)
    if why is None:
        return None
    names = ", ".join(study.forms[ref.split(".")[1]].name for ref in study.study.end_forms)
    key = "left_end_forms" if names else "left"
    return MESSAGES[key].format(subject=subject.identifier, why=why, forms=names)
