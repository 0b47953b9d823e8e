"""WTForms classes built at run time from a form's definition, and request parsing."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ecrf.converters import MAX_INTEGER
from ecrf.crf.save.plan import unit_key
from ecrf.records import fields
from ecrf.records.data import EntryData
from ecrf.records.loader import LoadedStudy
from forms.language import MISSING_CODES, CodeList, DataType, Form, Item, ItemGroup

PLACEHOLDERS = {
    DataType.DATE: "YYYY-MM-DD",
    DataType.PARTIAL_DATE: "YYYY-MM-DD, YYYY-MM or YYYY",
    DataType.TIME: "HH:MM",
    DataType.INTEGER: "whole number",
    DataType.DECIMAL: "number",
}

#: The tooltip of a typed item that accepts missing-data codes ({codes}: "NA, ND, UNK, NASK").
MISSING_HINT = "No value to give? Type a missing-data code: {codes}."


def field_name(group_oid: str, key: int, item_oid: str) -> str:
    return f"{group_oid}-{key}-{item_oid}"


def unit_field_name(group_oid: str, key: int, item_oid: str) -> str:
    """The list of units beside the input of an item with several units."""
    return f"{field_name(group_oid, key, item_oid)}-unit"


def chooses_unit(item: Item) -> bool:
    """The item has a list of units beside its input (not one following another's unit)."""
    return item.multi_unit and item.unit_of is None and not item.derived


def _unit_field(item: Item) -> SelectField:
    choices = [("", "unit…"), *((u.symbol, u.label) for u in item.measured_in)]
    return SelectField(f"Unit of {item.label}", choices=choices, validate_choice=False)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EntryFormBase(FlaskForm):
    class Meta:
        csrf = True

    version = HiddenField()
    reason = TextAreaField("Reason for change")


def _field_for(study: LoadedStudy, item: Item, laboratories: list[str] | None = None) -> Any:
    if item.cdash == "LBNAM" and laboratories:  # the site's laboratory registry
        choices = [("", "—"), *((name, name) for name in laboratories)]
        return SelectField(item.label, choices=choices, validate_choice=False)
    codelist = study.codelist_for(item)
    accepted = fields.missing_codes_for(item, codelist)
    missing = [(c, f"{MISSING_CODES[c]} ({c})") for c in accepted]
    if item.type is DataType.MULTI_CHOICE:
        return MultiCheckboxField(item.label, choices=list(codelist.codes), validate_choice=False)
    if item.type in (DataType.CHOICE, DataType.YES_NO):
        if codelist.groups:  # a long list: its options under their headings (<optgroup>)
            return SelectField(
                item.label, choices=_grouped_choices(codelist, missing), validate_choice=False
            )
        choices = [("", "—"), *codelist.codes, *missing]
        return SelectField(item.label, choices=choices, validate_choice=False)
    render_kw = {"placeholder": PLACEHOLDERS.get(item.type, ""), "autocomplete": "off"}
    if accepted:  # typed, not picked: say which codes this item takes
        render_kw["title"] = MISSING_HINT.format(codes=", ".join(accepted))
    if item.type in (DataType.INTEGER, DataType.DECIMAL):
        render_kw["inputmode"] = "decimal"
    return StringField(item.label, render_kw=render_kw)


def _grouped_choices(codelist: CodeList, missing: list[tuple[str, str]]) -> list[SelectChoice]:
    """The empty choice and the missing-data codes outside any heading; each code under its
    heading (``CodeList.groups``), headings in the code list's order."""
    return [
        SelectChoice("", "—"),
        *(
            SelectChoice(code, label, optgroup=codelist.heading(code))
            for code, label in codelist.codes
        ),
        *(SelectChoice(code, label) for code, label in missing),
    ]


def row_keys_for(form: Form, entry: EntryData | None, extra: dict[str, list[int]] | None = None):
    """Repeat keys to show per group: saved rows, plus blank rows being added."""
    keys: dict[str, list[int]] = {}
    for group in form.groups:
        if not group.repeating:
            keys[group.oid] = [1]
            continue
        saved = [r.repeat_key for r in entry.group_rows(group.oid)] if entry else []
        keys[group.oid] = sorted(set(saved) | set((extra or {}).get(group.oid, [])))
    return keys


def build_entry_form(
    study: LoadedStudy,
    form: Form,
    row_keys: dict[str, list[int]],
    *,
    formdata=None,
    data=None,
    laboratories: list[str] | None = None,
) -> FlaskForm:
    """An instance of a form class with one field per (row, non-derived item).

    :param laboratories: the names of the subject's site's laboratories, offered by a lab
        form's laboratory item (CDASH LBNAM).
    """
    attrs: dict[str, Any] = {}
    for group in form.groups:
        for key in row_keys[group.oid]:
            for item in group.items:
                if not item.derived:
                    attrs[field_name(group.oid, key, item.oid)] = _field_for(
                        study, item, laboratories
                    )
                if chooses_unit(item):
                    attrs[unit_field_name(group.oid, key, item.oid)] = _unit_field(item)
        if group.repeating:
            attrs[f"rows-{group.oid}"] = HiddenField()
    form_class = type(f"{form.oid}Form", (EntryFormBase,), attrs)
    return form_class(formdata=formdata, data=data)


def initial_data(
    study: LoadedStudy, form: Form, entry: EntryData | None, row_keys
) -> dict[str, Any]:
    """Field values showing what is stored."""
    data: dict[str, Any] = {}
    for group in form.groups:
        for key in row_keys[group.oid]:
            row = entry.rows.get((group.oid, key)) if entry else None
            for item in group.items:
                if item.derived:
                    continue
                name = field_name(group.oid, key, item.oid)
                entered = row.entered.get(item.oid) if row is not None else None
                if chooses_unit(item):  # nothing stored yet: the standard unit, as before
                    unit = entered[1] if entered else item.standard_unit.symbol
                    data[unit_field_name(group.oid, key, item.oid)] = unit
                if row is not None and item.oid in row.missing:
                    data[name] = row.missing[item.oid]
                elif entered is not None:  # as entered, in its unit
                    data[name] = fields.raw_text(item, entered[0])
                else:
                    data[name] = fields.raw_text(item, row.values.get(item.oid) if row else None)
        if group.repeating:
            data[f"rows-{group.oid}"] = ",".join(str(k) for k in row_keys[group.oid])
    return data


def extra_rows_from(formdata: MultiDict, form: Form) -> dict[str, list[int]]:
    """Row keys the page carried (saved plus blank ones added), from hidden rows-* fields.

    :raises ValueError: a key beyond what the database column holds.
    """
    result: dict[str, list[int]] = {}
    for group in form.groups:
        if group.repeating:
            text = formdata.get(f"rows-{group.oid}", "")
            keys = [int(k) for k in text.split(",") if k.strip().isascii() and k.strip().isdigit()]
            if any(k > MAX_INTEGER for k in keys):
                raise ValueError(f"row key out of range in {group.oid}")
            result[group.oid] = keys
    return result


def submitted_from(formdata: MultiDict, form: Form, row_keys) -> dict:
    """{(group, key): {item: raw}} for the write path, from the posted fields."""
    submitted: dict[tuple[str, int], dict[str, Any]] = {}
    for group in form.groups:
        for key in row_keys[group.oid]:
            row: dict[str, Any] = {}
            for item in group.items:
                if item.derived:
                    continue
                name = field_name(group.oid, key, item.oid)
                if item.type is DataType.MULTI_CHOICE:
                    row[item.oid] = formdata.getlist(name)
                elif name in formdata:
                    row[item.oid] = formdata.get(name, "")
                else:
                    row[item.oid] = ""
                unit_name = unit_field_name(group.oid, key, item.oid)
                if chooses_unit(item) and unit_name in formdata:
                    row[unit_key(item.oid)] = formdata.get(unit_name, "")
            submitted[(group.oid, key)] = row
    return submitted


def next_key(group: ItemGroup, row_keys: dict[str, list[int]], used: set[int] | None = None) -> int:
    """A repeat key never used in this entry: removed rows keep theirs for good."""
    return max([*row_keys[group.oid], *(used or ())], default=0) + 1
