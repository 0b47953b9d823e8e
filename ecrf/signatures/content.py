"""What a signature signs, in one canonical form, and its SHA-256.

The content of a scope is read from the stored records, never from a page: a visit is its
date (and any deviation recorded against its window) and every form entered at it, each
row with its removal flag and reason and each value as stored (canonical text, unit,
missing-data code); the inclusion decision is the decision and its reason with the forms
it rests on (the eligibility checklist, the criteria's inputs and the consent); the
casebook is every visit and the subject's status with its reason. The subject's identifier
and the scope are part of it, so that a signature cannot be carried to another record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    EntryStatus,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Subject,
    SubjectStatus,
    SubjectVisit,
)
from ecrf.signatures.models import Scope, Signature

#: The statuses a subject leaves screening for: the inclusion decision.
DECISIONS = frozenset({SubjectStatus.INCLUDED, SubjectStatus.SCREEN_FAILURE})

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ScopeKey:
    """Which content of a subject a signature covers."""

    scope: Scope
    visit_oid: str | None = None
    visit_repeat: int | None = None

    @classmethod
    def of(cls, signature: Signature) -> ScopeKey:
        return cls(signature.scope, signature.visit_oid, signature.visit_repeat)

    def path(self, subject: Subject) -> str:
        """As the audit trail names it: BDX-001/visit/SCR[1], BDX-001/casebook."""
        if self.scope is Scope.VISIT:
            return f"{subject.identifier}/visit/{self.visit_oid}[{self.visit_repeat}]"
        return f"{subject.identifier}/{self.scope.value}"


@dataclass(frozen=True)
class Decision:
    """The inclusion decision: the status the subject left screening for, and why."""

    status: SubjectStatus
    reason: str | None


def inclusion_decision(subject: Subject) -> Decision | None:
    """The subject's inclusion decision as the audit trail recorded it (later changes of
    status overwrite the subject's reason, not the decision), or None while undecided."""
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(
            AuditEvent.action == "subject_status_changed",
            AuditEvent.entity == "subject",
            AuditEvent.entity_id == subject.identifier,
            AuditEvent.old == SubjectStatus.SCREENING.value,
            AuditEvent.new.in_([s.value for s in DECISIONS]),
        )
        .order_by(AuditEvent.seq)
        .limit(1)
    )
    return None if event is None else Decision(SubjectStatus(event.new), event.reason)


def eligibility_forms(study: LoadedStudy) -> list[tuple[str, str]]:
    """(visit OID, form OID) of the forms the inclusion decision rests on: the criteria's
    checklists and inputs, and the consent; without criteria, the first visit's forms."""
    refs: list[str] = []
    for criterion in study.study.eligibility:
        refs.append(criterion.checklist)
        refs.extend(criterion.inputs)
    if study.study.consent:
        refs.append(study.study.consent)
    forms: list[tuple[str, str]] = []
    for ref in refs:
        parts = ref.split(".")
        if len(parts) < 2:
            continue
        visit = study.visits.get(parts[0])
        if visit is not None and parts[1] in visit.forms and (parts[0], parts[1]) not in forms:
            forms.append((parts[0], parts[1]))
    if not forms and study.study.visits:
        first = study.study.visits[0]
        forms = [(first.oid, form_oid) for form_oid in first.forms]
    return sorted(forms)


#: The columns of a visit and of one of its entries, first in both reads of the content.
_VISIT_AND_ENTRY = (
    SubjectVisit.id,
    SubjectVisit.visit_oid,
    SubjectVisit.repeat_key,
    SubjectVisit.visit_date,
    SubjectVisit.out_of_window,
    SubjectVisit.deviation_reason,
    FormEntry.id,
    FormEntry.form_oid,
    FormEntry.status,
)


class SubjectContent:
    """Everything of a subject a signature may cover, read in one query."""

    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        #: (visit OID, repeat) → {"date", "out_of_window", "deviation", "forms": {form OID:
        #: {"status", "rows": {"GROUP[n]": {"removed", "removed_reason", "values"}}}}}
        self.visits: dict[tuple[str, int], dict[str, Any]] = {}
        #: (visit OID, repeat, form OID) → form entry id
        self.entry_ids: dict[tuple[str, int, str], int] = {}
        self.visit_ids: dict[tuple[str, int], int] = {}
        self._decision: Decision | None = None
        self._decision_read = False

    @classmethod
    def load(cls, subject: Subject, *, values: bool = True) -> SubjectContent:
        """Read the subject's visits, entries, rows and values (``values=False``: the
        visits and entries only, for a page listing what can be signed)."""
        content = cls(subject)
        if not values:
            query = (
                sa.select(
                    *_VISIT_AND_ENTRY,
                    *[sa.null()] * 8,
                )
                .select_from(SubjectVisit)
                .outerjoin(FormEntry, FormEntry.visit_id == SubjectVisit.id)
                .where(SubjectVisit.subject_id == subject.id)
            )
            content._fill(db.session.execute(query).all())
            return content
        rows = db.session.execute(
            sa.select(
                *_VISIT_AND_ENTRY,
                ItemGroupRow.group_oid,
                ItemGroupRow.repeat_key,
                ItemGroupRow.removed,
                ItemGroupRow.removed_reason,
                ItemValue.item_oid,
                ItemValue.value_text,
                ItemValue.unit,
                ItemValue.missing_code,
            )
            .select_from(SubjectVisit)
            .outerjoin(FormEntry, FormEntry.visit_id == SubjectVisit.id)
            .outerjoin(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
            .outerjoin(ItemValue, ItemValue.row_id == ItemGroupRow.id)
            .where(SubjectVisit.subject_id == subject.id)
        ).all()
        content._fill(rows)
        return content

    def _fill(self, rows) -> None:
        content = self
        for r in rows:
            key = (r[1], r[2])
            visit = content.visits.setdefault(
                key,
                {
                    "date": r[3].isoformat() if r[3] else None,
                    "out_of_window": bool(r[4]),
                    "deviation": r[5],
                    "forms": {},
                },
            )
            content.visit_ids[key] = r[0]
            if r[6] is None:
                continue
            content.entry_ids[(r[1], r[2], r[7])] = r[6]
            form = visit["forms"].setdefault(r[7], {"status": EntryStatus(r[8]), "rows": {}})
            if r[9] is None:
                continue
            row = form["rows"].setdefault(
                f"{r[9]}[{r[10]}]", {"removed": bool(r[11]), "reason": r[12], "values": {}}
            )
            if r[13] is not None:
                row["values"][r[13]] = [r[14], r[15], r[16]]

    # --- what each scope covers ---------------------------------------------------------

    def decision(self) -> Decision | None:
        if not self._decision_read:
            self._decision = inclusion_decision(self.subject)
            self._decision_read = True
        return self._decision

    def forms_of(self, study: LoadedStudy, key: ScopeKey) -> list[tuple[str, int, str]]:
        """(visit OID, repeat, form OID) of the entries the scope covers, in order."""
        if key.scope is Scope.VISIT:
            forms = self.visits.get((key.visit_oid, key.visit_repeat), {}).get("forms", {})
            return [(key.visit_oid, key.visit_repeat, f) for f in sorted(forms)]
        if key.scope is Scope.INCLUSION:
            return [
                (v, 1, f)
                for v, f in eligibility_forms(study)
                if f in self.visits.get((v, 1), {}).get("forms", {})
            ]
        return sorted((v, r, f) for (v, r), visit in self.visits.items() for f in visit["forms"])

    def visits_of(self, study: LoadedStudy, key: ScopeKey) -> list[tuple[str, int]]:
        if key.scope is Scope.VISIT:
            return [(key.visit_oid, key.visit_repeat)]
        if key.scope is Scope.INCLUSION:
            return sorted({(v, 1) for v, _ in eligibility_forms(study) if (v, 1) in self.visits})
        return sorted(self.visits)

    def canonical(self, study: LoadedStudy, key: ScopeKey) -> bytes:
        """The scope's content in its one canonical form (sorted-key JSON, UTF-8)."""
        payload: dict[str, Any] = {
            "subject": self.subject.identifier,
            "scope": key.path(self.subject),
        }
        visits: dict[str, Any] = {}
        for visit_oid, repeat in self.visits_of(study, key):
            visit = self.visits[(visit_oid, repeat)]
            visits[f"{visit_oid}[{repeat}]"] = {
                "date": visit["date"],
                "out_of_window": visit["out_of_window"],
                "deviation": visit["deviation"],
                "forms": {},
            }
        for visit_oid, repeat, form_oid in self.forms_of(study, key):
            form = self.visits[(visit_oid, repeat)]["forms"][form_oid]
            visits[f"{visit_oid}[{repeat}]"]["forms"][form_oid] = form["rows"]
        payload["visits"] = visits
        if key.scope is Scope.INCLUSION:
            decision = self.decision()
            payload["decision"] = (
                None if decision is None else [decision.status.value, decision.reason]
            )
        if key.scope is Scope.CASEBOOK:
            payload["status"] = [self.subject.status.value, self.subject.status_reason]
        return _ENCODER.encode(payload).encode()

    def hash(self, study: LoadedStudy, key: ScopeKey) -> str:
        """SHA-256 (hex) of :meth:`canonical`: what a signature is bound to."""
        return hashlib.sha256(self.canonical(study, key)).hexdigest()


def content_hash(study: LoadedStudy, subject: Subject, key: ScopeKey) -> str:
    """The hash of ``key``'s content of ``subject`` as stored now."""
    return SubjectContent.load(subject).hash(study, key)
