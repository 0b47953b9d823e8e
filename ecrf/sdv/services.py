"""Verify captured values against their source; withdraw a verification when its value
changes or its row is removed; set a site's own share of subjects to verify.

Verifying a row, a form or a visit verifies each of its items with a value (derived
values are computed, not copied from a source, and are left out). Each verification and
each withdrawal is audited, one event per item (R13). Only monitors verify, at the
subject's site; the command-line operator (``actor=None``) may too. Nothing here commits.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Protocol

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.errors import NotFound, RuleViolation
from ecrf.extensions import db
from ecrf.records.data import as_loaded, plain_rows
from ecrf.records.fields import Stored
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Site, Subject, SubjectVisit
from ecrf.records.places import DataPlace
from ecrf.sdv.models import SitePlan, SourceVerification, Withdrawal

NO_VISIT = "This visit has no data yet."
NO_FORM = "This form has no data at this visit."
NO_ROW = "There is no such row in this form."
NO_ITEM = "There is no such item in this form."
NOTHING_TO_VERIFY = "Nothing here has a value to verify."
ALL_VERIFIED = "Everything here is verified already."
PERCENT_NEEDED = "Give a whole number from 0 to 100."
REASON_NEEDED = "Say why this site's share changes."
MAX_REASON = 2000
REASON_TOO_LONG = "At most {limit} characters."
#: The audit trail's reason for a withdrawal, by cause.
WITHDRAWN_BECAUSE = {
    Withdrawal.CHANGED: "value changed after verification",
    Withdrawal.ROW_REMOVED: "row removed after verification",
}


#: What a monitor verifies: a visit, a form, a row or one item.
SdvTarget = DataPlace


class Change(Protocol):
    """A changed value as the write path plans it (``ecrf.crf.save.plan.ValueChange``)."""

    group_oid: str
    row_key: int
    item_oid: str
    new_missing: str | None
    stored: Stored


def audit_text(text: str | None, missing: str | None, unit: str | None) -> str | None:
    """A value as the audit trail reads it (as ``ecrf.crf.save.changes.encode``, which sits
    above this package): "72", "1.2 mg/dL", or "[ND]" when missing."""
    if missing:
        return f"[{missing}]"
    return f"{text} {unit}" if unit and text is not None else text


def encode(value: ItemValue) -> str | None:
    return audit_text(value.value_text, value.missing_code, value.unit)


def path(visit: SubjectVisit, form_oid: str, group_oid: str, repeat_key: int, item_oid: str) -> str:
    """Where a verified value is, as the audit trail names it (VISIT[1]/FORM/GROUP[2].ITEM)."""
    return f"{visit.visit_oid}[{visit.repeat_key}]/{form_oid}/{group_oid}[{repeat_key}].{item_oid}"


def current_verifications(entry_ids: Iterable[int]) -> list[SourceVerification]:
    ids = list(entry_ids)
    if not ids:
        return []
    # Plain rows (usually none), made ORM objects as loaded.
    found = plain_rows(_current_verifications(), {"entry_ids": ids}).all()
    return [as_loaded(SourceVerification, row) for row in found]


@functools.cache
def _current_verifications() -> sa.Select:
    """``current_verifications``'s query, built once (every save asks it)."""
    return sa.select(SourceVerification).where(
        SourceVerification.entry_id.in_(sa.bindparam("entry_ids", expanding=True)),
        SourceVerification.withdrawn_at.is_(None),
    )


def _verifiable(study: LoadedStudy, subject: Subject, target: SdvTarget):
    """(visit, [(entry, row, value)]) of the target's items with a value.

    :raises NotFound: the visit, form, row or item is unknown or holds no data.
    """
    definition = study.visits.get(target.visit_oid)
    if definition is None:
        raise NotFound(NO_VISIT)
    if target.form_oid is not None and target.form_oid not in definition.forms:
        raise NotFound(NO_FORM)
    if target.group_oid is not None and study.group(target.form_oid, target.group_oid) is None:
        raise NotFound(NO_ROW)
    if target.item_oid is not None and not study.has_item(target.form_oid, target.item_oid):
        raise NotFound(NO_ITEM)
    visit = db.session.scalar(
        sa.select(SubjectVisit).where(
            SubjectVisit.subject_id == subject.id,
            SubjectVisit.visit_oid == target.visit_oid,
            SubjectVisit.repeat_key == target.visit_repeat,
        )
    )
    if visit is None:
        raise NotFound(NO_VISIT)
    query = sa.select(FormEntry).where(FormEntry.visit_id == visit.id)
    if target.form_oid is not None:
        query = query.where(FormEntry.form_oid == target.form_oid)
    entries = [
        e
        for e in db.session.scalars(query.order_by(FormEntry.id))
        if e.form_oid in definition.forms
    ]
    if target.form_oid is not None and not entries:
        raise NotFound(NO_FORM)
    group_oid = target.group_oid
    if target.item_oid is not None:
        group_oid = study.item(target.form_oid, target.item_oid)[0].oid
        if target.group_oid not in (None, group_oid):
            raise NotFound(NO_ITEM)
    found = []
    row_seen = False
    for entry in entries:
        for row in entry.rows:
            if row.removed:
                continue
            if group_oid is not None and (
                row.group_oid != group_oid or row.repeat_key != (target.repeat_key or 1)
            ):
                continue
            row_seen = True
            for value in row.values:
                if target.item_oid is not None and value.item_oid != target.item_oid:
                    continue
                if value.derived or (value.value_text is None and value.missing_code is None):
                    continue
                if not study.has_item(entry.form_oid, value.item_oid):
                    continue  # an item the definition dropped since: nothing to show it by
                found.append((entry, row, value))
    if group_oid is not None and not row_seen:
        raise NotFound(NO_ROW)
    return visit, found


def verify(
    study: LoadedStudy, subject: Subject, target: SdvTarget, *, actor: User | None
) -> list[SourceVerification]:
    """Mark the target's values verified against the source, each not verified yet.

    :returns: the new verifications (one per item).
    :raises PermissionDenied: the actor may not verify at the subject's site.
    :raises NotFound: the visit, form, row or item is unknown or holds no data.
    :raises RuleViolation: nothing there has a value, or everything is verified already.
    """
    if actor is not None:
        require_permission(actor, Perm.VERIFY_SOURCE, subject.site_id)
    _lock(subject)
    visit, found = _verifiable(study, subject, target)
    if not found:
        raise RuleViolation(NOTHING_TO_VERIFY)
    done = {
        (v.entry_id, v.group_oid, v.repeat_key, v.item_oid)
        for v in current_verifications({entry.id for entry, _, _ in found})
    }
    made = []
    for entry, row, value in found:
        if (entry.id, row.group_oid, row.repeat_key, value.item_oid) in done:
            continue
        verification = SourceVerification(
            subject_id=subject.id,
            entry_id=entry.id,
            group_oid=row.group_oid,
            repeat_key=row.repeat_key,
            item_oid=value.item_oid,
            value=encode(value),
            verified_by_id=actor.id if actor else None,
        )
        db.session.add(verification)
        made.append((verification, entry))
    if not made:
        raise RuleViolation(ALL_VERIFIED)
    db.session.flush()
    for verification, entry in made:
        record_event(
            "source_verified",
            "source_verification",
            verification.id,
            actor=actor,
            site_id=subject.site_id,
            field=path(
                visit,
                entry.form_oid,
                verification.group_oid,
                verification.repeat_key,
                verification.item_oid,
            ),
            new=verification.value,
            definition_version=study.version,
        )
    return [v for v, _ in made]


def _lock(subject: Subject) -> None:
    """Queue behind any save of the subject (as ``ecrf.study.subjects.lock_subject``): a
    value is verified as it is, never while a save changes it."""
    db.session.execute(
        sa.update(Subject)
        .where(Subject.id == subject.id)
        .values(number=Subject.number)
        .execution_options(synchronize_session=False)
    )


def _withdraw(
    verification: SourceVerification,
    cause: Withdrawal,
    new: str | None,
    *,
    actor: User | None,
    site_id: int,
    version: str | None,
) -> None:
    verification.withdrawn_at = utcnow()
    verification.withdrawn_by_id = actor.id if actor else None
    verification.withdrawn_cause = cause
    verification.withdrawn_value = new
    entry = verification.entry
    record_event(
        "verification_withdrawn",
        "source_verification",
        verification.id,
        actor=actor,
        site_id=site_id,
        field=path(
            entry.visit,
            entry.form_oid,
            verification.group_oid,
            verification.repeat_key,
            verification.item_oid,
        ),
        old=verification.value,
        new=new,
        reason=WITHDRAWN_BECAUSE[cause],
        definition_version=version,
    )


def unverify_changed(save, entry: FormEntry, changes: Sequence[Change]) -> int:
    """The write path's hook: withdraw the verification of each value the save changed.

    :param save: the save (``ecrf.crf.save.plan.FormSave``: its actor, site and study).
    :returns: how many verifications were withdrawn.
    """
    if entry.id is None or not changes:
        return 0
    changed = {(c.group_oid, c.row_key, c.item_oid): c for c in changes}
    withdrawn = 0
    # The values the save changes need not be written to find their verifications: they
    # are flushed with the save's other writes (one statement for them all).
    with db.session.no_autoflush:
        verifications = current_verifications([entry.id])
    for verification in verifications:
        change = changed.get(
            (verification.group_oid, verification.repeat_key, verification.item_oid)
        )
        if change is None:
            continue
        new = audit_text(change.stored.text, change.new_missing, change.stored.unit)
        _withdraw(
            verification,
            Withdrawal.CHANGED,
            new,
            actor=save.actor,
            site_id=save.site_id,
            version=save.study.version,
        )
        withdrawn += 1
    return withdrawn


def unverify_removed_row(
    study: LoadedStudy, entry: FormEntry, row: ItemGroupRow, *, actor: User | None, site_id: int
) -> int:
    """The write path's hook: withdraw the verifications of a row being removed."""
    withdrawn = 0
    for verification in current_verifications([entry.id]):
        if (verification.group_oid, verification.repeat_key) == (row.group_oid, row.repeat_key):
            _withdraw(
                verification,
                Withdrawal.ROW_REMOVED,
                None,
                actor=actor,
                site_id=site_id,
                version=study.version,
            )
            withdrawn += 1
    db.session.flush()
    return withdrawn


def set_site_plan(
    study: LoadedStudy, site: Site, percentage: str | int | None, reason: str, *, actor: User | None
) -> SitePlan | None:
    """Set the site's own percentage of subjects whose non-critical forms are verified, or
    (``percentage`` None or empty) go back to the definition's; the critical forms stay at
    100 %.

    :raises PermissionDenied: the actor may not set the plan at this site.
    :raises RuleViolation: not a whole number from 0 to 100 (at ``percentage``), or no
        reason (at ``reason``).
    """
    if actor is not None:
        require_permission(actor, Perm.PLAN_VERIFICATION, site.id)
    text = str(percentage).strip() if percentage is not None else ""
    if text and (not text.isdigit() or not 0 <= int(text) <= 100):
        raise RuleViolation(PERCENT_NEEDED, field="percentage")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(REASON_NEEDED, field="reason")
    if len(reason) > MAX_REASON:
        raise RuleViolation(REASON_TOO_LONG.format(limit=MAX_REASON), field="reason")
    plan = db.session.get(SitePlan, site.id)
    old = f"{plan.percentage} %" if plan else f"{study.study.sdv_sample_percent} % (definition)"
    if not text:
        if plan is not None:
            db.session.delete(plan)
        new = f"{study.study.sdv_sample_percent} % (definition)"
        plan = None
    else:
        if plan is None:
            plan = SitePlan(site_id=site.id)
            db.session.add(plan)
        plan.percentage = int(text)
        plan.reason = reason
        plan.updated_by_id = actor.id if actor else None
        plan.updated_at = utcnow()
        new = f"{plan.percentage} %"
    db.session.flush()
    record_event(
        "sdv_plan_changed",
        "site",
        site.id,
        actor=actor,
        site_id=site.id,
        field="sdv_sample_percent",
        old=old,
        new=new,
        reason=reason,
        definition_version=study.version,
    )
    return plan
