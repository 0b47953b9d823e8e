"""Step 5: the stored values the save changes, each stored form computed once."""

from __future__ import annotations

from ecrf.crf.save.plan import FormSave, Planned, ValueChange
from ecrf.records import fields
from ecrf.records.models import FormEntry, ItemValue


def encode(text: str | None, missing: str | None) -> str | None:
    """How a value reads in the audit trail: its canonical text, or [CODE] when missing."""
    return f"[{missing}]" if missing else text


def plan_changes(save: FormSave, entry: FormEntry, planned: Planned) -> list[ValueChange]:
    """One ``ValueChange`` per item whose audit text (value or missing code) changes."""
    stored: dict[tuple[str, int, str], ItemValue] = {}
    for row in entry.rows if entry.id else []:
        for value in row.values:
            stored[(row.group_oid, row.repeat_key, value.item_oid)] = value
    changes = []
    for (group_oid, key), row in planned.items():
        for item_oid, value in row.values.items():
            item = save.study.item(save.form_oid, item_oid)[1]
            new = fields.store(item, value)
            new_missing = row.missing.get(item_oid)
            current = stored.get((group_oid, key, item_oid))
            old = encode(current.value_text, current.missing_code) if current else None
            if old != encode(new.text, new_missing):
                changes.append(ValueChange(group_oid, key, item_oid, old, value, new, new_missing))
    return changes
