"""What the form and subject pages show of source verification, and to whom its actions."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.permissions import can
from ecrf.auth.roles import Perm
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, Subject
from ecrf.sdv import plan
from ecrf.sdv.models import SourceVerification
from ecrf.sdv.progress import Progress, SubjectProgress, site_percentages, subject_progress

#: (group OID, repeat key, item OID): one item of a form.
ItemKey = tuple[str, int, str]


@dataclass
class FormVerification:
    """One form's verification: per item, per row and as a whole."""

    #: Whether the plan has this form verified for this subject, and why.
    required: bool
    critical: bool
    #: Whether the viewer verifies here (a monitor at the subject's site).
    can_verify: bool
    #: Items with a value (derived ones aside): what can be verified.
    values: set[ItemKey] = field(default_factory=set)
    verified: dict[ItemKey, SourceVerification] = field(default_factory=dict)
    #: The last withdrawn verification of items not verified again.
    withdrawn: dict[ItemKey, SourceVerification] = field(default_factory=dict)

    def item(self, group_oid: str, key: int, item_oid: str) -> str | None:
        """ "verified", "withdrawn", "pending" (a value not verified) or None (no value)."""
        item_key = (group_oid, key, item_oid)
        if item_key in self.verified:
            return "verified"
        if item_key not in self.values:
            return None
        return "withdrawn" if item_key in self.withdrawn else "pending"

    def _state(self, keys: set[ItemKey]) -> str:
        if not keys:
            return "empty"
        done = sum(1 for k in keys if k in self.verified)
        return "verified" if done == len(keys) else ("partly" if done else "none")

    def row(self, group_oid: str, key: int) -> str:
        return self._state({k for k in self.values if k[:2] == (group_oid, key)})

    @property
    def state(self) -> str:
        """ "verified", "partly", "none" or "empty" (nothing captured to verify)."""
        return self._state(self.values)

    @property
    def counts(self) -> tuple[int, int]:
        """(values verified, values to verify)."""
        return sum(1 for k in self.values if k in self.verified), len(self.values)

    @property
    def withdrawn_list(self) -> list[SourceVerification]:
        return sorted(self.withdrawn.values(), key=lambda v: v.withdrawn_at)


def form_verification(
    study: LoadedStudy, subject: Subject, entry: FormEntry | None, form_oid: str, viewer: User
) -> FormVerification:
    percentage = plan.site_percentage(study, subject.site_id)
    shown = FormVerification(
        required=plan.form_required(study, subject.identifier, form_oid, percentage),
        critical=plan.is_critical(study, form_oid),
        can_verify=can(viewer, Perm.VERIFY_SOURCE, subject.site_id),
    )
    if entry is None or entry.id is None:
        return shown
    for row in entry.rows:
        if row.removed:
            continue
        for value in row.values:
            if value.derived or (value.value_text is None and value.missing_code is None):
                continue
            shown.values.add((row.group_oid, row.repeat_key, value.item_oid))
    kept = db.session.scalars(
        sa.select(SourceVerification)
        .where(SourceVerification.entry_id == entry.id)
        .order_by(SourceVerification.id)
    )
    for verification in kept:
        item_key = (verification.group_oid, verification.repeat_key, verification.item_oid)
        if verification.current:
            shown.verified[item_key] = verification
            shown.withdrawn.pop(item_key, None)
        else:
            shown.withdrawn[item_key] = verification
    return shown


@dataclass
class SubjectVerification:
    """The subject page's view: the plan for this subject and progress per visit."""

    can_verify: bool
    sampled: bool
    percentage: int
    progress: Progress
    visits: dict[tuple[str, int], Progress]


def subject_verification(study: LoadedStudy, subject: Subject, viewer: User) -> SubjectVerification:
    percentages = site_percentages(study, [subject.site])
    found: SubjectProgress = subject_progress(study, [subject], percentages)[subject.id]
    return SubjectVerification(
        can_verify=can(viewer, Perm.VERIFY_SOURCE, subject.site_id),
        sampled=found.sampled,
        percentage=percentages[subject.site_id],
        progress=found.progress,
        visits=found.visits,
    )
