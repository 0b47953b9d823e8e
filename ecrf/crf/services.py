"""The one write path for clinical data.

``save_form`` and ``remove_row`` run, in the caller's transaction, the steps of a save,
each a function of ``ecrf.crf.save`` named for its job: authorize → lock and read the
subject → check the version → refuse what a lock holds → parse and validate → plan the
changes → derive and check → write the values → withdraw their source verification →
write the derived values → record the save → sync the findings (and their automatic
queries) → invalidate the signatures over what changed. Every write records its audit
event as it goes. Views, the CLI, the import and the tests call
these two functions; nothing else writes form data.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ecrf.audit.services import batched_events, record_event
from ecrf.auth.models import User
from ecrf.crf.evaluate import run_checks, run_derivations
from ecrf.crf.save.authorize import authorize
from ecrf.crf.save.changes import encode, plan_changes
from ecrf.crf.save.entry import (
    check_gate,
    check_version,
    find_entry,
    lock_and_read,
    open_entry,
    publish_definition,
)
from ecrf.crf.save.findings import sync_findings
from ecrf.crf.save.laboratory import apply_registry, limit_issues
from ecrf.crf.save.outcome import FieldIssue, SaveResult, StaleEntry, ValidationFailed
from ecrf.crf.save.plan import Submitted, merge_planned, unit_key
from ecrf.crf.save.rules import derive_and_check, reached
from ecrf.crf.save.validate import parse_and_validate, timing_issues
from ecrf.crf.save.write import (
    field_path,
    mark_complete,
    record_saved,
    write_derived,
    write_values,
)
from ecrf.crf.visits import recheck_windows
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.locks.services import locked_refusal, refuse_if_locked
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import EntryStatus, FormEntry, Subject, SubjectVisit
from ecrf.sdv.services import unverify_changed, unverify_removed_row
from ecrf.signatures import services as signatures
from ecrf.study.subjects import lock_subject

__all__ = [
    "FieldIssue",
    "SaveResult",
    "StaleEntry",
    "ValidationFailed",
    "encode",
    "field_path",
    "find_entry",
    "publish_definition",
    "remove_row",
    "save_form",
    "sync_findings",
    "unit_key",
]


def save_form(
    study: LoadedStudy,
    subject: Subject,
    visit_oid: str,
    form_oid: str,
    submitted: Submitted,
    *,
    actor: User | None,
    expected_version: int,
    reason: str | None = None,
    complete: bool = False,
    visit_repeat: int = 1,
    today: date | None = None,
) -> SaveResult:
    """Validate and save one form of one visit; the only way form values are written.

    :param submitted: {(group OID, repeat key): {item OID: typed text}}. Items left out of
        a row keep their value; rows left out are unchanged; a new repeat key adds a row
        (ignored when all its entries are empty).
    :param expected_version: the entry version the user started from (0 for a new form).
    :param reason: required when a value changes and the form was complete, or the
        subject's participation has ended (``ecrf.study.gates``; end forms excepted).
    :param complete: mark the form complete (required items must then be answered).
    :param today: the day of the save (default: the UTC date), against which dates are
        checked: none after it (but planned ones), none implausible.
    :raises PermissionDenied: the actor may not enter data at the subject's site.
    :raises StaleEntry: someone saved the form since ``expected_version``.
    :raises ValidationFailed: with every problem at its item, or the gate that refuses the
        form (no consent yet, a new visit after the end); nothing written.
    """
    save = authorize(
        study, subject, visit_oid, form_oid, actor=actor, visit_repeat=visit_repeat, today=today
    )
    data = lock_and_read(save)
    gate = check_gate(save, data)
    definition = publish_definition(study)
    entry_data = open_entry(save, data, definition, expected_version)
    entry = entry_data.entry
    check_version(entry, expected_version, saved_by=actor, definition=definition)
    # A lock on the form, visit, subject, site or study refuses the save, at the form.
    if locked := locked_refusal(study, subject, visit_oid, visit_repeat, form_oid):
        raise ValidationFailed([], [locked])

    was_complete = entry.status is EntryStatus.COMPLETE
    # A lab form that names its laboratory: the registry's units and limits.
    submitted, lab_issues, registry_limits = apply_registry(
        save, data, entry_data, submitted, require=complete or was_complete
    )
    issues, planned = parse_and_validate(
        save, entry_data, submitted, require=complete or was_complete
    )
    issues += lab_issues
    changes = plan_changes(save, entry, planned)
    reason = (reason or "").strip() or None
    limit_problems, limits_differ = limit_issues(registry_limits, planned, changes, reason)
    issues += limit_problems
    merge_planned(data, save, planned)
    scope = reached(save, data, changes)
    derived, found, rejected = derive_and_check(save, data, scope)
    issues += rejected
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity == "warning"]
    errors += timing_issues(save, data, changes)
    form_errors = []
    if changes and reason is None:
        if was_complete:
            form_errors.append("This form is complete: give the reason for the change.")
        elif gate.reason:
            form_errors.append(gate.reason)
    if errors or form_errors:
        raise ValidationFailed(errors + warnings, form_errors)

    needs_reason = was_complete or gate.reason is not None or limits_differ
    # The save's events join the trail together, in the order recorded, when it is written
    # (the chain's head moved once per save, not once per step).
    with batched_events():
        write_values(save, entry, changes, reason if needs_reason else None)
        # A changed value loses its source verification (visibly, audited).
        unverify_changed(save, entry, changes)
        write_derived(study, data, derived, actor, save.site_id)
        if complete and not was_complete:
            mark_complete(save, entry)
        record_saved(study, entry, actor, save.site_id, stamped=True)
        sync_findings(study, subject, data, found, actor, checked=scope.checks)
        # Automatic queries open and close with the findings (sync_findings); signatures
        # over what changed (derived values too) no longer hold.
        signatures.after_form_saved(
            study, subject, visit_oid, visit_repeat, form_oid, _fields(changes), actor=actor
        )
        # A planned D0 changed (or anything a reference date reads): visits already dated
        # are measured against their windows again, deviations flagged or cleared.
        if changes:
            recheck_windows(study, subject, data, actor=actor)
    return SaveResult(entry, len(changes), warnings, status=entry.status)


def remove_row(
    study: LoadedStudy,
    subject: Subject,
    visit_oid: str,
    form_oid: str,
    group_oid: str,
    repeat_key: int,
    *,
    actor: User | None,
    reason: str,
    expected_version: int,
    visit_repeat: int = 1,
) -> FormEntry:
    """Remove a row of a repeating group: flagged removed with its reason, never deleted.

    :raises RuleViolation: no reason, not a repeating group, or no such row.
    :raises StaleEntry: someone saved the form since ``expected_version``.
    """
    authorize(study, subject, visit_oid, form_oid, actor=actor, visit_repeat=visit_repeat)
    group = study.group(form_oid, group_oid)
    if group is None or not group.repeating:
        raise RuleViolation("Only rows of repeating groups can be removed.")
    if not reason.strip():
        raise RuleViolation("Give the reason for removing this row.", field="reason")
    lock_subject(subject)
    refuse_if_locked(study, subject, visit_oid, visit_repeat, form_oid)
    visit = db.session.scalar(
        sa.select(SubjectVisit).where(
            SubjectVisit.subject_id == subject.id,
            SubjectVisit.visit_oid == visit_oid,
            SubjectVisit.repeat_key == visit_repeat,
        )
    )
    entry = find_entry(visit, form_oid) if visit else None
    row = next(
        (
            r
            for r in (entry.rows if entry else [])
            if r.group_oid == group_oid and r.repeat_key == repeat_key
        ),
        None,
    )
    if row is None or row.removed:
        raise RuleViolation("There is no such row.")
    check_version(entry, expected_version)
    unverify_removed_row(study, entry, row, actor=actor, site_id=subject.site_id)
    row.removed = True
    row.removed_reason = reason.strip()
    db.session.flush()
    record_event(
        "row_removed",
        "form_entry",
        entry.id,
        actor=actor,
        site_id=subject.site_id,
        field=field_path(group_oid, repeat_key),
        reason=reason.strip(),
        definition_version=study.version,
    )
    data = SubjectData.load(study, subject)
    write_derived(study, data, run_derivations(study, data), actor, subject.site_id)
    record_saved(study, entry, actor, subject.site_id)
    sync_findings(study, subject, data, run_checks(study, data), actor)
    signatures.after_row_removed(
        study,
        subject,
        visit_oid,
        visit_repeat,
        form_oid,
        field_path(group_oid, repeat_key),
        actor=actor,
    )
    return entry


def _fields(changes) -> list[str]:
    return [field_path(c.group_oid, c.row_key, c.item_oid) for c in changes]
