"""Steps 6 and 7: the changed values and the derived values written, each with its audit
event; then the entry marked complete and saved (its ``form_saved`` event)."""

from __future__ import annotations

from typing import Any

from ecrf.audit.services import batched_events, record_event
from ecrf.auth.models import User
from ecrf.crf.save.changes import encode
from ecrf.crf.save.plan import FormSave, ValueChange
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records import fields
from ecrf.records.data import SubjectData, load_rows
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import DefinitionVersion, EntryStatus, FormEntry, ItemGroupRow, ItemValue


def field_path(group_oid: str, repeat_key: int, item_oid: str | None = None) -> str:
    return f"{group_oid}[{repeat_key}]" + (f".{item_oid}" if item_oid else "")


def write_values(
    save: FormSave, entry: FormEntry, changes: list[ValueChange], reason: str | None
) -> None:
    """Write each changed value and its audit event (``reason`` given when one was due)."""
    with batched_events():
        for change in changes:
            _write_value(save, entry, change, reason)


def _write_value(save: FormSave, entry: FormEntry, change: ValueChange, reason: str | None) -> None:
    row = ensure_row(entry, change.group_oid, change.row_key, save.actor, save.site_id, save.study)
    value = _ensure_value(row, change.item_oid)
    stored = change.stored
    value.value_text, value.value_number, value.value_date = (
        stored.text,
        stored.number,
        stored.day,
    )
    value.unit = stored.unit
    value.missing_code = change.new_missing
    new = encode(change.new_text, change.new_missing, stored.unit)
    if change.old is None:
        action = "item_entered"
    else:
        action = "item_cleared" if new is None else "item_changed"
    record_event(
        action,
        "form_entry",
        entry.id,
        actor=save.actor,
        site_id=save.site_id,
        field=field_path(change.group_oid, change.row_key, change.item_oid),
        old=change.old,
        new=new,
        reason=reason,
        definition_version=save.study.version,
    )


def ensure_row(
    entry: FormEntry, group_oid: str, key: int, actor: User | None, site_id: int, study: LoadedStudy
) -> ItemGroupRow:
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
            definition_version=study.version,
        )
    return row


def _ensure_value(row: ItemGroupRow, item_oid: str) -> ItemValue:
    value = next((v for v in row.values if v.item_oid == item_oid), None)
    if value is None:
        value = ItemValue(row=row, item_oid=item_oid)
        db.session.add(value)
    return value


def write_derived(
    study: LoadedStudy,
    data: SubjectData,
    derived: dict[tuple, Any],
    actor: User | None,
    site_id: int,
) -> None:
    """Store derived values that changed, in entries that exist, each with its audit event."""
    with batched_events():
        _write_derived(study, data, derived, actor, site_id)
    db.session.flush()


def _write_derived(study, data, derived, actor, site_id) -> None:
    for (visit_oid, visit_key, form_oid, group_oid, key, item_oid), value in derived.items():
        entry_data = data.entry(visit_oid, visit_key, form_oid)
        if entry_data is None or entry_data.entry_id is None:
            continue
        item = study.item(form_oid, item_oid)[1]
        stored = fields.store(item, value)
        texts = entry_data.stored_texts
        # An entry read as plain rows (not the one saved) whose value is unchanged: nothing
        # to load or write.
        if (
            texts is not None
            and not entry_data.rows_loaded()
            and texts.get((group_oid, key, item_oid)) == stored.text
        ):
            continue
        entry = entry_data.entry
        row = next(
            (r for r in load_rows(entry) if r.group_oid == group_oid and r.repeat_key == key),
            None,
        )
        if row is not None and row.removed:
            continue
        current = None
        if row is not None:
            current = next((v for v in row.values if v.item_oid == item_oid), None)
        old = current.value_text if current else None
        if old == stored.text:
            continue
        if row is None:
            if value is None:
                continue
            row = ensure_row(entry, group_oid, key, actor, site_id, study)
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


def mark_complete(save: FormSave, entry: FormEntry) -> None:
    entry.status = EntryStatus.COMPLETE
    record_event(
        "form_completed",
        "form_entry",
        entry.id,
        actor=save.actor,
        site_id=save.site_id,
        definition_version=save.study.version,
    )


def record_saved(
    study: LoadedStudy,
    entry: FormEntry,
    actor: User | None,
    site_id: int,
    definition: DefinitionVersion | None = None,
    *,
    stamped: bool = False,
) -> None:
    """The entry's new version, who saved it and when, and its ``form_saved`` event.

    :param stamped: ``check_version`` recorded who and when already (with the version).
    """
    if not stamped:
        if definition is not None:
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
        definition_version=study.version,
    )
