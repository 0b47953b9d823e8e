"""Step 5: the stored values the save changes, each stored form computed once."""

from __future__ import annotations

from ecrf.crf.save.plan import FormSave, Planned, ValueChange
from ecrf.records import fields
from ecrf.records.models import FormEntry, ItemValue


def encode(text: str | None, missing: str | None, unit: str | None = None) -> str | None:
    """How a value reads in the audit trail: its canonical text (with the UCUM symbol of
    its unit, for an item with several units: "1.2 mg/dL"), or [CODE] when missing."""
    if missing:
        return f"[{missing}]"
    return f"{text} {unit}" if unit and text is not None else text


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
            if item_oid in row.entered:  # several units: stored as entered, with its unit
                value, symbol = row.entered[item_oid]
                new = fields.store(item, value, unit=symbol)
            else:
                new = fields.store(item, value)
            new_missing = row.missing.get(item_oid)
            current = stored.get((group_oid, key, item_oid))
            old = None
            if current is not None:
                unit = current.unit
                if unit is None and item.multi_unit and current.value_text is not None:
                    unit = item.standard_unit.symbol  # stored before it had several units
                old = encode(current.value_text, current.missing_code, unit)
            if old != encode(new.text, new_missing, new.unit):
                changes.append(ValueChange(group_oid, key, item_oid, old, value, new, new_missing))
    return changes
