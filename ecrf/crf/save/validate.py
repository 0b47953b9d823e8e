"""Step 4: every submitted entry parsed once and checked at its field; the rows as they
will be after the save (``Planned``), or the issues that refuse it."""

from __future__ import annotations

from datetime import date
from typing import Any

from ecrf.crf.save.outcome import FieldIssue
from ecrf.crf.save.plan import (
    FormSave,
    Planned,
    PlannedRow,
    Submitted,
    ValueChange,
    unit_key,
)
from ecrf.errors import RuleViolation
from ecrf.records import dates, fields, units
from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from forms.language import Item, ItemGroup, Unit, holds
from forms.values import PartialDate

#: An empty required item when the form is completed ({codes}: the missing-data codes the
#: item accepts).
REQUIRED = "Required to complete the form."
REQUIRED_OR_MISSING = "Required to complete the form (or a missing-data code: {codes})."


def parse_and_validate(
    save: FormSave, entry_data: EntryData, submitted: Submitted, *, require: bool
) -> tuple[list[FieldIssue], Planned]:
    """Parse and check every submitted entry; return the issues and the rows' planned values.

    :param require: the form is (or is being marked) complete: required items must be
        answered.
    :raises RuleViolation: a group the form does not have.
    """
    study, form = save.study, save.form
    issues: list[FieldIssue] = []
    planned: Planned = {}
    known = {g.oid for g in form.groups}
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
                raw_row is None
                # a unit chosen alone does not make a row
                or not any(_filled(v) for k, v in raw_row.items() if not k.endswith(".unit"))
            ):
                continue  # a blank new row is not a row
            if key in removed:  # its values stay as they were when it was removed
                message = "This row was removed; enter its data as a new row."
                issues.append(FieldIssue(group.oid, key, None, message))
                continue
            live_rows += 1
            row = _parse_row(study, group, key, existing, raw_row or {}, issues, save.today)
            planned[(group.oid, key)] = row
            if not group.repeating:
                single_values.update(row.values)
        if group.max_rows is not None and live_rows > group.max_rows:
            issues.append(FieldIssue(group.oid, 0, None, f"At most {group.max_rows} rows."))
    _apply_conditions(save, planned, single_values, issues, require=require)
    return issues, planned


def _apply_conditions(save, planned: Planned, single_values, issues, *, require: bool) -> None:
    """Items hidden by their condition are cleared; when ``require``, required items that are
    empty are reported. Conditions read the row itself and the form's single groups."""
    for (group_oid, key), row in planned.items():
        group = next(g for g in save.form.groups if g.oid == group_oid)
        context = {**single_values, **row.values}
        for item in group.items:
            if item.derived:
                continue
            if item.shown_when is not None and not holds(item.shown_when, context):
                row.values[item.oid] = None
                row.missing.pop(item.oid, None)
                row.entered.pop(item.oid, None)
                continue
            if not require:
                continue
            needed = item.required or (
                item.required_when is not None and holds(item.required_when, context)
            )
            already = any(
                i.item_oid == item.oid and i.row_key == key and i.group_oid == group_oid
                for i in issues
            )
            empty = row.values.get(item.oid) is None and item.oid not in row.missing
            if needed and empty and not already:
                codes = fields.missing_codes_for(item, save.study.codelist_for(item))
                message = item.required_message or (
                    REQUIRED_OR_MISSING.format(codes=", ".join(codes)) if codes else REQUIRED
                )
                issues.append(FieldIssue(group_oid, key, item.oid, message))


def _filled(raw: str | list[str] | None) -> bool:
    return bool(raw) and (
        any(r.strip() for r in raw) if isinstance(raw, list) else bool(raw.strip())
    )


def _parse_row(
    study: LoadedStudy,
    group: ItemGroup,
    key: int,
    existing: RowData | None,
    raw_row: dict[str, str | list[str]],
    issues: list[FieldIssue],
    today: date,
) -> PlannedRow:
    row = PlannedRow()
    for item in group.items:
        if item.derived:
            continue
        if item.oid not in raw_row:  # not submitted: keeps its value
            if existing is not None:
                row.values[item.oid] = existing.values.get(item.oid)
                if item.oid in existing.missing:
                    row.missing[item.oid] = existing.missing[item.oid]
                if item.oid in existing.entered:
                    row.entered[item.oid] = existing.entered[item.oid]
            else:
                row.values[item.oid] = None
            continue
        raw = raw_row[item.oid]
        code = fields.missing_code(raw, item, study.codelist_for(item))
        if code and item.missing_allowed:
            row.values[item.oid] = None
            row.missing[item.oid] = code
            continue
        if code:  # not to be stored as the text "ND", nor refused as "not a number"
            message = "Give the value: a missing-data code is not accepted."
            issues.append(FieldIssue(group.oid, key, item.oid, message))
            row.values[item.oid] = None
            continue
        unit = None
        if item.multi_unit and _filled(raw):
            unit, problem = _unit_of(group, item, existing, raw_row)
            if unit is None:
                issues.append(FieldIssue(group.oid, key, item.oid, problem))
                row.values[item.oid] = None
                continue
        try:
            value = fields.parse(item, raw, study.codelist_for(item), today=today, unit=unit)
        except fields.FieldError as exc:
            issues.append(FieldIssue(group.oid, key, item.oid, str(exc)))
            row.values[item.oid] = None
            continue
        problem = fields.range_problem(item, value, unit)
        if problem:
            kind, message = problem
            severity = "error" if kind == "hard" else "warning"
            issues.append(FieldIssue(group.oid, key, item.oid, message, severity))
        if unit is not None and value is not None:
            row.entered[item.oid] = (value, unit.symbol)
            value = units.to_standard(item, value, unit.symbol)
        row.values[item.oid] = value
    return row


def _unit_of(
    group: ItemGroup, item: Item, existing: RowData | None, raw_row: dict
) -> tuple[Unit | None, str]:
    """The unit a value of ``item`` was entered in, or None and why it is refused.

    The unit submitted beside the value; when none is submitted (a caller that does not
    deal in units), the unit the stored value has, else the standard unit. An item that
    follows another's unit (``unit_of``) takes that item's.
    """
    leader = item
    if item.unit_of is not None:
        leader = next(i for i in group.items if i.oid == item.unit_of)
    key = unit_key(leader.oid)
    if key not in raw_row:
        stored = existing.entered.get(leader.oid) if existing is not None else None
        return leader.unit(stored[1] if stored else None), ""
    symbol = raw_row[key]
    symbol = (symbol[0] if isinstance(symbol, list) and symbol else symbol) or ""
    if not isinstance(symbol, str) or not symbol.strip():
        if leader is not item:
            return None, f"Choose the unit of {leader.label.lower()}: this value is in it too."
        return None, "Choose the unit of this value."
    chosen = item.unit(symbol.strip())
    if chosen is None:
        known = ", ".join(u.label for u in item.measured_in)
        return None, f"{symbol.strip()} is not a unit of this item: choose {known}."
    return chosen, ""


def timing_issues(
    save: FormSave, data: SubjectData, changes: list[ValueChange]
) -> list[FieldIssue]:
    """Dates typed in this save that lie where their item's timing forbids.

    Read after the save's values are merged into ``data``, so a consent or end-of-study
    date changed in the same save counts. Only changed values are checked: a value saved
    before stays as it is until someone changes it (the consistency checks report it).
    """
    study = save.study
    consent = _study_date(data, study.study.consent)
    end = _study_date(data, study.study.end_of_study)
    issues = []
    for change in changes:
        value = change.value
        if change.new_text is None or not isinstance(value, (date, PartialDate)):
            continue
        item = study.item(save.form_oid, change.item_oid)[1]
        problem = dates.timing_problem(
            value, dates.timing_of(item, save.visit_def), today=save.today, consent=consent, end=end
        )
        if problem:
            issues.append(FieldIssue(change.group_oid, change.row_key, change.item_oid, problem))
    return issues


def _study_date(data: SubjectData, ref: str | None) -> date | None:
    if ref is None:
        return None
    value = data.value(*ref.split("."))
    return value if isinstance(value, date) else None
