"""Source-data verification and investigator signatures in a subject's casebook: each
form's verification against the plan, each visit's signatures, and every signature of
the subject on the cover (valid or invalidated, and why)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Subject
from ecrf.sdv import plan
from ecrf.sdv.progress import Progress, site_percentages, subject_progress
from ecrf.signatures.models import Scope, Signature
from ecrf.signatures.services import visit_label, why_invalid

#: What a signature covers, as the cover's table names it.
SIGNED = {
    Scope.VISIT: "Visit: {visit}",
    Scope.INCLUSION: "Inclusion decision",
    Scope.CASEBOOK: "Whole casebook",
}
VALID = "Valid"
INVALIDATED = "No longer valid"
SIGNER = "{name} ({role})"
#: Why the plan asks (or not) for a form's verification for this subject.
PLAN = {
    "critical": "critical form: verified for every subject",
    "sampled": "subject sampled: the site verifies such forms for {percentage} % of its subjects",
    "outside": (
        "outside the plan for this subject: the site verifies such forms for {percentage} % "
        "of its subjects"
    ),
}
VERIFIED = "{verified} of {required} values verified"
WITHDRAWN = "{count} withdrawn by a later change"
BEYOND = "{count} verified beyond the plan"
NOT_ASKED = "none asked"


@dataclass
class CasebookMonitoring:
    #: Every signature of the subject, oldest first.
    signatures: list[dict[str, Any]] = field(default_factory=list)
    #: (visit OID, repeat) → that visit's signatures.
    by_visit: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    #: (visit OID, repeat, form OID) → the form's verification, in words.
    verification: dict[tuple[str, int, str], dict[str, Any]] = field(default_factory=dict)
    #: The subject's verification, in words (the cover).
    summary: str = ""


def casebook_monitoring(study: LoadedStudy, subject: Subject) -> CasebookMonitoring:
    found = CasebookMonitoring()
    signatures = db.session.scalars(
        sa.select(Signature)
        .where(Signature.subject_id == subject.id)
        .options(joinedload(Signature.invalidated_by))
        .order_by(Signature.signed_at, Signature.id)
    ).all()
    for signature in signatures:
        printed = _signature(study, signature)
        found.signatures.append(printed)
        if signature.scope is Scope.VISIT:
            key = (signature.visit_oid, signature.visit_repeat)
            found.by_visit.setdefault(key, []).append(printed)
    percentage = site_percentages(study, [subject.site])[subject.site_id]
    progress = subject_progress(study, [subject], {subject.site_id: percentage})[subject.id]
    for (visit_oid, repeat, form_oid), step in progress.forms.items():
        if plan.is_critical(study, form_oid):
            why = PLAN["critical"]
        elif progress.sampled:
            why = PLAN["sampled"].format(percentage=percentage)
        else:
            why = PLAN["outside"].format(percentage=percentage)
        found.verification[(visit_oid, repeat, form_oid)] = {
            "plan": why,
            "counts": _counts(step) if step.required else _beyond(step),
            "complete": step.required > 0 and step.pending == 0,
        }
    found.summary = _counts(progress.progress)
    return found


def _beyond(step: Progress) -> str:
    return BEYOND.format(count=step.beyond) if step.beyond else NOT_ASKED


def _counts(step: Progress) -> str:
    words = [VERIFIED.format(verified=step.verified, required=step.required)]
    if step.withdrawn:
        words.append(WITHDRAWN.format(count=step.withdrawn))
    if step.beyond:
        words.append(BEYOND.format(count=step.beyond))
    return "; ".join(words)


def _signature(study: LoadedStudy, signature: Signature) -> dict[str, Any]:
    what = SIGNED[signature.scope]
    if signature.scope is Scope.VISIT:
        what = what.format(visit=visit_label(study, signature.visit_oid, signature.visit_repeat))
    return {
        "what": what,
        "at": signature.signed_at,
        "name": SIGNER.format(name=signature.printed_name, role=Role(signature.role).label),
        "meaning": signature.meaning,
        "valid": signature.valid,
        "state": VALID if signature.valid else INVALIDATED,
        "why": why_invalid(study, signature),
        "open_queries": signature.open_queries,
    }
