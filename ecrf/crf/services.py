"""The one write path for clinical data.

``save_form`` and ``remove_row`` do, in the caller's transaction: permission check →
concurrency check → validation → derivations → edit checks → write → audit. Views, the
CLI and the tests call them; nothing else writes form data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import check
from ecrf.auth.roles import Perm
from ecrf.crf.evaluate import derive, run_checks
from ecrf.db import utcnow
from ecrf.errors import Conflict, NotFound, RuleViolation
from ecrf.extensions import db
from ecrf.records import dates, fields
from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    DefinitionVersion,
    EntryStatus,
    Finding,
    FindingStatus,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Subject,
    Visit,
)
from ecrf.study import gates
from ecrf.study.schedule import applicable
from ecrf.study.subjects import ensure_visit, lock_subject
from forms.language import Form, ItemGroup, Severity, VisitKind, holds
from forms.values import PartialDate

RowKey = tuple[str, int]
Submitted = dict[RowKey, dict[str, str | list[str]]]


@dataclass(frozen=True)
class FieldIssue:
    group_oid: str
    row_key: int
    item_oid: str | None  # None: about the whole row or group
    message: str
    severity: str = "error"  # or "warning"


class ValidationFailed(RuleViolation):
    """Some entries are invalid; nothing was written. ``issues`` say where and why."""

    def __init__(self, issues: list[FieldIssue], form_errors: list[str] | None = None) -> None:
        super().__init__("Some entries need correcting; nothing was saved.")
        self.issues = issues
        self.form_errors = form_errors or []


class StaleEntry(Conflict):
    """The form was saved by someone else since it was opened; ``changes`` lists what."""

    def __init__(self, changes: list[AuditEvent]) -> None:
        super().__init__(
            "Someone else saved this form after you opened it. Your entries were not saved; "
            "they are kept below beside the other changes: review them and save again."
        )
        self.changes = changes


@dataclass
class SaveResult:
    entry: FormEntry
    changes: int
    warnings: list[FieldIssue] = field(default_factory=list)


def encode(text: str | None, missing: str | None) -> str | None:
    """How a value reads in the audit trail: its canonical text, or [CODE] when missing."""
    return f"[{missing}]" if missing else text


def field_path(group_oid: str, repeat_key: int, item_oid: str | None = None) -> str:
    return f"{group_oid}[{repeat_key}]" + (f".{item_oid}" if item_oid else "")


def publish_definition(study: LoadedStudy) -> DefinitionVersion:
    """The stored record of the running definition version, created at first use.

    :raises RuntimeError: the same version number was published with other content.
    """
    query = sa.select(DefinitionVersion).where(
        DefinitionVersion.study_oid == study.study.oid,
        DefinitionVersion.version == study.version,
    )
    record = db.session.scalar(query)
    if record is None:
        try:
            with db.session.begin_nested():
                record = DefinitionVersion(
                    study_oid=study.study.oid, version=study.version, digest=study.digest
                )
                db.session.add(record)
        except sa.exc.IntegrityError:  # another save published it meanwhile
            record = db.session.scalar(query)
        else:
            record_event(
                "definition_published",
                "definition",
                f"{study.study.oid}/{study.version}",
                new=study.digest,
            )
    if record.digest != study.digest:
        raise RuntimeError(
            f"study definition {study.study.oid} version {study.version} changed since it was "
            "published: give the changed definition a new version"
        )
    return record


def find_entry(visit: Visit, form_oid: str) -> FormEntry | None:
    return db.session.scalar(
        sa.select(FormEntry).where(FormEntry.visit_id == visit.id, FormEntry.form_oid == form_oid)
    )


def _changes_since(entry: FormEntry, version: int) -> list[AuditEvent]:
    saved_at = db.session.scalar(
        sa.select(AuditEvent.seq).where(
            AuditEvent.entity == "form_entry",
            AuditEvent.entity_id == str(entry.id),
            AuditEvent.action == "form_saved",
            AuditEvent.new == str(version),
        )
    )
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.entity == "form_entry",
                AuditEvent.entity_id == str(entry.id),
                AuditEvent.seq > (saved_at or 0),
                AuditEvent.field.is_not(None),
            )
            .order_by(AuditEvent.seq)
        )
    )


def _lock_version(entry: FormEntry, expected_version: int) -> None:
    """Move the entry to its next version only if still at ``expected_version``.

    A conditional UPDATE takes the row's write lock first, so of two saves based on the same
    version exactly one succeeds, on SQLite and PostgreSQL alike.
    """
    updated = db.session.execute(
        sa.update(FormEntry)
        .where(FormEntry.id == entry.id, FormEntry.version == expected_version)
        .values(version=FormEntry.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if updated != 1:
        db.session.refresh(entry)
        raise StaleEntry(_changes_since(entry, expected_version))
    db.session.refresh(entry, ["version"])


def _context(study, subject, visit_oid, form_oid, actor, visit_repeat):
    check(actor, Perm.ENTER_DATA, subject.site_id) if actor is not None else None
    visit_def = study.visits.get(visit_oid)
    if visit_def is None or form_oid not in visit_def.forms:
        raise NotFound("This form is not part of this visit.")
    form = study.forms[form_oid]
    return visit_def, form


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
    visit_def, form = _context(study, subject, visit_oid, form_oid, actor, visit_repeat)
    lock_subject(subject)
    # Read after the lock, and afresh: objects this session loaded before it may be stale.
    db.session.expire_all()
    data = SubjectData.load(study, subject)
    if not applicable(study, data, visit_def):
        raise RuleViolation(f"{visit_def.name} does not apply to this subject.")
    if visit_def.kind is VisitKind.UNSCHEDULED and (visit_oid, visit_repeat) not in data.visits:
        raise NotFound("This unscheduled visit does not exist.")
    gate = _check_gates(study, subject, data, visit_oid, visit_repeat, form_oid)
    definition = publish_definition(study)
    visit = ensure_visit(subject, visit_oid, visit_repeat)
    data.visits.setdefault((visit_oid, visit_repeat), visit)
    entry = find_entry(visit, form_oid)
    if entry is None:
        if expected_version != 0:
            raise StaleEntry([])
        entry = FormEntry(
            visit_id=visit.id,
            form_oid=form_oid,
            version=0,
            definition_version=definition,
            rows=[],  # new: known empty, never lazy-loaded
        )
        try:
            with db.session.begin_nested():
                db.session.add(entry)
        except sa.exc.IntegrityError:
            raise StaleEntry([]) from None
        # Where the entry belongs, so that verify can tell an entry moved by SQL.
        record_event(
            "form_created",
            "form_entry",
            entry.id,
            actor=actor,
            site_id=subject.site_id,
            new=f"{subject.identifier}/{visit_oid}/{visit_repeat}/{form_oid}",
            definition_version=study.version,
        )
        # The new entry is empty and the subject is locked: the data loaded above, plus
        # this entry, are the subject's data (no need to read them all again).
        data.entries[(visit_oid, visit_repeat, form_oid)] = EntryData(form_oid, entry)
    _lock_version(entry, expected_version)

    entry_data = data.entry(visit_oid, visit_repeat, form_oid)
    if entry_data is None:
        entry_data = EntryData(form_oid, entry)
        data.entries[(visit_oid, visit_repeat, form_oid)] = entry_data
    was_complete = entry.status is EntryStatus.COMPLETE
    today = today or utcnow().date()
    issues, planned = _validate(
        study, form, entry_data, submitted, require=complete or was_complete, today=today
    )

    # Derivations and checks run on the data as it would be after the save.
    for (group_oid, key), (values, missing) in planned.items():
        row = entry_data.rows.setdefault((group_oid, key), RowData(group_oid, key))
        row.values.update(values)
        row.missing = {**{k: v for k, v in row.missing.items() if k not in values}, **missing}
    derived = derive(study, data)
    found = run_checks(study, data)
    for finding in found:
        k = finding.key
        if finding.severity is Severity.REJECT and (k.visit_oid, k.repeat_key, k.form_oid) == (
            visit_oid,
            visit_repeat,
            form_oid,
        ):
            issues.append(FieldIssue(k.group_oid, k.row_key, k.item_oid, finding.message))
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity == "warning"]

    changes = _value_changes(study, form, entry, planned)
    errors += _timing_issues(study, visit_def, form, data, planned, changes, today)
    form_errors = []
    needs_reason = was_complete or gate.reason is not None
    if changes and not (reason or "").strip():
        if was_complete:
            form_errors.append("This form is complete: give the reason for the change.")
        elif gate.reason:
            form_errors.append(gate.reason)
    if errors or form_errors:
        raise ValidationFailed(errors + warnings, form_errors)

    version_label = study.version
    site_id = subject.site_id
    for group_oid, key, item_oid, old, new_text, new_missing in changes:
        row = _ensure_row(entry, group_oid, key, actor, site_id, version_label)
        value = _ensure_value(row, item_oid)
        item = study.item(form_oid, item_oid)[1]
        stored = fields.store(item, planned[(group_oid, key)][0].get(item_oid))
        value.value_text, value.value_number, value.value_date = (
            stored.text,
            stored.number,
            stored.day,
        )
        value.missing_code = new_missing
        new = encode(new_text, new_missing)
        action = (
            "item_entered" if old is None else ("item_cleared" if new is None else "item_changed")
        )
        record_event(
            action,
            "form_entry",
            entry.id,
            actor=actor,
            site_id=site_id,
            field=field_path(group_oid, key, item_oid),
            old=old,
            new=new,
            reason=(reason or "").strip() or None if needs_reason else None,
            definition_version=version_label,
        )
    _write_derived(study, data, derived, actor, site_id)
    if complete and not was_complete:
        entry.status = EntryStatus.COMPLETE
        record_event(
            "form_completed",
            "form_entry",
            entry.id,
            actor=actor,
            site_id=site_id,
            definition_version=version_label,
        )
    entry.definition_version = definition
    entry.updated_at = utcnow()
    entry.updated_by_id = actor.id if actor else None
    db.session.flush()
    record_event(
        "form_saved",
        "form_entry",
        entry.id,
        actor=actor,
        site_id=site_id,
        new=str(entry.version),
        definition_version=version_label,
    )
    sync_findings(study, subject, data, found, actor)
    return SaveResult(entry, len(changes), warnings)


def _check_gates(study, subject, data, visit_oid, visit_repeat, form_oid) -> gates.FormGate:
    """Refuse, before anything is written, a save the subject's stage does not allow (no
    consent yet, a new visit after the end); return the gate (whether a reason is due)."""
    gate = gates.form_gate(study, subject, data, visit_oid, visit_repeat, form_oid)
    if gate.closed:
        raise ValidationFailed([], [gate.closed])
    return gate


def _validate(
    study: LoadedStudy,
    form: Form,
    entry_data: EntryData,
    submitted: Submitted,
    *,
    require: bool,
    today: date,
) -> tuple[list[FieldIssue], dict[RowKey, tuple[dict[str, Any], dict[str, str]]]]:
    """Parse and check every submitted entry; return issues and the rows' planned values."""
    issues: list[FieldIssue] = []
    planned: dict[RowKey, tuple[dict[str, Any], dict[str, str]]] = {}
    known = {(g.oid) for g in form.groups}
    for group_oid, _ in submitted:
        if group_oid not in known:
            raise RuleViolation(f"Unknown item group {group_oid} for form {form.oid}.")
    single_values: dict[str, Any] = {}
    for group in form.groups:
        if not group.repeating:
            single_values.update(entry_data.single(group.oid).values)
    for group in form.groups:
        keys = sorted(
            {k for g, k in submitted if g == group.oid}
            | {r.repeat_key for r in entry_data.group_rows(group.oid)}
        )
        if not group.repeating:
            keys = [1]
        removed = {
            r.repeat_key
            for r in (entry_data.entry.rows if entry_data.entry is not None else [])
            if r.group_oid == group.oid and r.removed
        }
        live_rows = 0
        for key in keys:
            existing = entry_data.rows.get((group.oid, key))
            raw_row = submitted.get((group.oid, key))
            if existing is None and (
                raw_row is None or not any(_filled(v) for v in raw_row.values())
            ):
                continue  # a blank new row is not a row
            if key in removed:  # its values stay as they were when it was removed
                message = "This row was removed; enter its data as a new row."
                issues.append(FieldIssue(group.oid, key, None, message))
                continue
            live_rows += 1
            values, missing = _validate_row(
                study, form, group, key, existing, raw_row or {}, issues, today
            )
            planned[(group.oid, key)] = (values, missing)
            if not group.repeating:
                single_values.update(values)
        if group.max_rows is not None and live_rows > group.max_rows:
            issues.append(FieldIssue(group.oid, 0, None, f"At most {group.max_rows} rows."))
    # Conditions read the row itself and the form's single (non-repeating) groups.
    for (group_oid, key), (values, missing) in planned.items():
        group = next(g for g in form.groups if g.oid == group_oid)
        context = {**single_values, **values}
        for item in group.items:
            if item.derived:
                continue
            shown = item.shown_when is None or holds(item.shown_when, context)
            if not shown:
                values[item.oid] = None
                missing.pop(item.oid, None)
                continue
            needed = item.required or (
                item.required_when is not None and holds(item.required_when, context)
            )
            already = any(
                i.item_oid == item.oid and i.row_key == key and i.group_oid == group_oid
                for i in issues
            )
            empty = values.get(item.oid) is None and item.oid not in missing
            if require and needed and empty and not already:
                hint = (
                    " (or a missing-data code: NA, ND, UNK, NASK)" if item.missing_allowed else ""
                )
                message = item.required_message or f"Required to complete the form{hint}."
                issues.append(FieldIssue(group_oid, key, item.oid, message))
    return issues, planned


def _filled(raw: str | list[str] | None) -> bool:
    return bool(raw) and (
        any(r.strip() for r in raw) if isinstance(raw, list) else bool(raw.strip())
    )


def _validate_row(
    study, form, group: ItemGroup, key, existing: RowData | None, raw_row, issues, today
):
    values: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for item in group.items:
        if item.derived:
            continue
        if item.oid not in raw_row:
            if existing is not None:
                values[item.oid] = existing.values.get(item.oid)
                if item.oid in existing.missing:
                    missing[item.oid] = existing.missing[item.oid]
            else:
                values[item.oid] = None
            continue
        raw = raw_row[item.oid]
        codelist = study.codelist_for(item)
        code = (
            fields.missing_code(raw)
            if item.type.value not in ("choice", "yes_no", "multi_choice")
            # A code of the item's own list ("NA": not applicable) is an answer, not a
            # missing-data code.
            else (
                raw
                if isinstance(raw, str)
                and raw in ("NA", "ND", "UNK", "NASK")
                and not (codelist and raw in dict(codelist.codes))
                else None
            )
        )
        if code and item.missing_allowed:
            values[item.oid] = None
            missing[item.oid] = code
            continue
        if code:  # not to be stored as the text "ND", nor refused as "not a number"
            issues.append(
                FieldIssue(
                    group.oid, key, item.oid, "Give the value: a missing-data code is not accepted."
                )
            )
            values[item.oid] = None
            continue
        try:
            value = fields.parse(item, raw, study.codelist_for(item), today=today)
        except fields.FieldError as exc:
            issues.append(FieldIssue(group.oid, key, item.oid, str(exc)))
            values[item.oid] = None
            continue
        problem = fields.range_problem(item, value)
        if problem:
            kind, message = problem
            issues.append(
                FieldIssue(
                    group.oid, key, item.oid, message, "error" if kind == "hard" else "warning"
                )
            )
        values[item.oid] = value
    return values, missing


def _timing_issues(study, visit_def, form, data, planned, changes, today) -> list[FieldIssue]:
    """Dates typed in this save that lie where their item's timing forbids.

    Read after the save's values are merged into ``data``, so a consent or end-of-study
    date changed in the same save counts. Only changed values are checked: a value saved
    before stays as it is until someone changes it (the consistency checks report it).
    """
    consent = _study_date(data, study.study.consent)
    end = _study_date(data, study.study.end_of_study)
    issues = []
    for group_oid, key, item_oid, _old, new_text, _missing in changes:
        value = planned[(group_oid, key)][0].get(item_oid)
        if new_text is None or not isinstance(value, (date, PartialDate)):
            continue
        item = study.item(form.oid, item_oid)[1]
        problem = dates.timing_problem(
            value, dates.timing_of(item, visit_def), today=today, consent=consent, end=end
        )
        if problem:
            issues.append(FieldIssue(group_oid, key, item_oid, problem))
    return issues


def _study_date(data: SubjectData, ref: str | None) -> date | None:
    if ref is None:
        return None
    value = data.value(*ref.split("."))
    return value if isinstance(value, date) else None


def _value_changes(study, form, entry: FormEntry, planned):
    """(group, key, item, old audit text, new text, new missing code) per change."""
    stored: dict[tuple[str, int, str], ItemValue] = {}
    rows = {(r.group_oid, r.repeat_key): r for r in entry.rows} if entry.id else {}
    for row in rows.values():
        for value in row.values:
            stored[(row.group_oid, row.repeat_key, value.item_oid)] = value
    changes = []
    for (group_oid, key), (values, missing) in planned.items():
        for item_oid, value in values.items():
            item = study.item(form.oid, item_oid)[1]
            new_text = fields.store(item, value).text
            new_missing = missing.get(item_oid)
            current = stored.get((group_oid, key, item_oid))
            old = encode(current.value_text, current.missing_code) if current else None
            if old != encode(new_text, new_missing):
                changes.append((group_oid, key, item_oid, old, new_text, new_missing))
    return changes


def _ensure_row(entry: FormEntry, group_oid, key, actor, site_id, version_label) -> ItemGroupRow:
    row = next((r for r in entry.rows if r.group_oid == group_oid and r.repeat_key == key), None)
    if row is None:
        row = ItemGroupRow(entry=entry, group_oid=group_oid, repeat_key=key, values=[])
        db.session.add(row)  # inserted with the save's other rows and values, at its flush
        record_event(
            "row_added",
            "form_entry",
            entry.id,
            actor=actor,
            site_id=site_id,
            field=field_path(group_oid, key),
            definition_version=version_label,
        )
    return row


def _ensure_value(row: ItemGroupRow, item_oid: str) -> ItemValue:
    value = next((v for v in row.values if v.item_oid == item_oid), None)
    if value is None:
        value = ItemValue(row=row, item_oid=item_oid)
        db.session.add(value)
    return value


def _write_derived(study: LoadedStudy, data: SubjectData, derived, actor, site_id) -> None:
    """Store derived values that changed, in entries that exist, each with its audit event."""
    for (visit_oid, visit_key, form_oid, group_oid, key, item_oid), value in derived.items():
        entry_data = data.entry(visit_oid, visit_key, form_oid)
        if entry_data is None or entry_data.entry is None or entry_data.entry.id is None:
            continue
        entry = entry_data.entry
        row = next(
            (r for r in entry.rows if r.group_oid == group_oid and r.repeat_key == key), None
        )
        if row is not None and row.removed:
            continue
        item = study.item(form_oid, item_oid)[1]
        stored = fields.store(item, value)
        current = None
        if row is not None:
            current = next((v for v in row.values if v.item_oid == item_oid), None)
        old = current.value_text if current else None
        if old == stored.text:
            continue
        if row is None:
            if value is None:
                continue
            row = _ensure_row(entry, group_oid, key, actor, site_id, study.version)
        current = current or _ensure_value(row, item_oid)
        current.value_text, current.value_number, current.value_date = (
            stored.text,
            stored.number,
            stored.day,
        )
        current.derived = True
        formula = next(d.formula for d in study.forms[form_oid].derivations if d.target == item_oid)
        record_event(
            "item_derived",
            "form_entry",
            entry.id,
            actor=actor,
            site_id=site_id,
            field=field_path(group_oid, key, item_oid),
            old=old,
            new=stored.text,
            reason=f"derived: {formula}",
            definition_version=study.version,
        )
    db.session.flush()


def sync_findings(study: LoadedStudy, subject: Subject, data: SubjectData, found, actor) -> None:
    """Open findings the checks now raise; resolve open ones they no longer raise."""
    entry_ids = {
        (vo, vk, fo): e.entry.id for (vo, vk, fo), e in data.entries.items() if e.entry is not None
    }
    current = {}
    for finding in found:
        k = finding.key
        entry_id = entry_ids.get((k.visit_oid, k.repeat_key, k.form_oid))
        if entry_id is not None:
            current[(entry_id, k.group_oid, k.row_key, k.item_oid, k.check)] = finding
    open_rows = db.session.scalars(
        sa.select(Finding).where(
            Finding.subject_id == subject.id, Finding.status == FindingStatus.OPEN
        )
    ).all()
    now = utcnow()
    for row in open_rows:
        key = (row.entry_id, row.group_oid, row.repeat_key, row.item_oid, row.check_name)
        still = current.pop(key, None)
        if still is None:
            row.status = FindingStatus.RESOLVED
            row.resolved_at = now
            record_event(
                "finding_resolved",
                "finding",
                row.id,
                actor=actor,
                site_id=subject.site_id,
                field=field_path(row.group_oid, row.repeat_key, row.item_oid),
                old=row.message,
            )
        elif still.message != row.message:
            row.message = still.message
    for (entry_id, group_oid, key, item_oid, name), finding in current.items():
        row = Finding(
            subject_id=subject.id,
            entry_id=entry_id,
            group_oid=group_oid,
            repeat_key=key,
            item_oid=item_oid,
            check_name=name,
            severity=finding.severity.value,
            message=finding.message,
        )
        db.session.add(row)
        db.session.flush()
        record_event(
            "finding_opened",
            "finding",
            row.id,
            actor=actor,
            site_id=subject.site_id,
            field=field_path(group_oid, key, item_oid),
            new=finding.message,
        )
    db.session.flush()


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
    _context(study, subject, visit_oid, form_oid, actor, visit_repeat)
    group = study.group(form_oid, group_oid)
    if group is None or not group.repeating:
        raise RuleViolation("Only rows of repeating groups can be removed.")
    if not reason.strip():
        raise RuleViolation("Give the reason for removing this row.", field="reason")
    lock_subject(subject)
    visit = db.session.scalar(
        sa.select(Visit).where(
            Visit.subject_id == subject.id,
            Visit.visit_oid == visit_oid,
            Visit.repeat_key == visit_repeat,
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
    _lock_version(entry, expected_version)
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
    derived = derive(study, data)
    _write_derived(study, data, derived, actor, subject.site_id)
    entry.updated_at = utcnow()
    entry.updated_by_id = actor.id if actor else None
    db.session.flush()
    record_event(
        "form_saved",
        "form_entry",
        entry.id,
        actor=actor,
        site_id=subject.site_id,
        new=str(entry.version),
        definition_version=study.version,
    )
    sync_findings(study, subject, data, run_checks(study, data), actor)
    return entry
