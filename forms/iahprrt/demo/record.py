"""A patient's case record as the site writes it: the steps taken so far, and what the
saved data hold (the eligibility checklist is answered from them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from forms.iahprrt.demo.steps import (
    AddUnscheduledVisit,
    ChangeStatus,
    RemoveRow,
    SaveForm,
    SetVisitDate,
    Step,
)
from forms.iahprrt.demo.values import Missing, typed_text
from forms.iahprrt.study import STUDY
from forms.language import Unit
from forms.values import PartialDate

_GROUPS = {(f.oid, g.oid): g for f in STUDY.forms for g in f.groups}
_SINGLE = {
    (f.oid, i.oid): g.oid for f in STUDY.forms for g in f.groups if not g.repeating for i in g.items
}
#: Items holding a plan rather than an event: they may lie ahead.
_PLANNED = frozenset({"D0PLAN"})
#: Items with several units: (form, item) → ({UCUM symbol: unit}, the item whose unit the
#: value is in: itself, or the value a limit of normal follows).
_UNITS = {
    (f.oid, i.oid): ({u.symbol: u for u in i.measured_in}, i.unit_of or i.oid)
    for f in STUDY.forms
    for _, i in f.items()
    if i.multi_unit
}


def in_unit(value: Decimal, unit: Unit) -> Decimal:
    """A value of the standard unit as a laboratory reporting in ``unit`` writes it."""
    converted = Decimal(value) / unit.factor
    if unit.precision is not None:
        return converted.quantize(Decimal(1).scaleb(-unit.precision))
    return converted.normalize()


class Record:
    """The steps of one patient, and their data by reference ("VISIT.FORM.ITEM")."""

    #: Nothing of the patient is dated after this day (drawn with the patient's time line).
    horizon: date

    def __init__(self) -> None:
        #: The units the patient's laboratory reports in, where not the standard one:
        #: item OID → UCUM symbol (the values given to ``form`` are in the standard unit).
        self.reported_units: dict[str, str] = {}
        #: The laboratory the patient's lab forms name (from the site's registry).
        self.laboratory_name: str | None = None
        self.steps: list[Step] = []
        #: What the data hold: "VISIT.FORM.ITEM" → typed value; "VISIT.FORM.GROUP[]" →
        #: {key: row}. The eligibility answers are chosen from it.
        self.values: dict[str, Any] = {}

    def date_visit(self, visit: str, repeat: int, day: date, deviation: str | None) -> None:
        """Date occurrence ``repeat`` of ``visit``."""
        self.steps.append(SetVisitDate(visit, repeat, day, deviation))

    def unscheduled_visit(self, visit: str, repeat: int, day: date) -> None:
        """Open occurrence ``repeat`` of the unscheduled ``visit``."""
        self.steps.append(AddUnscheduledVisit(visit, repeat, day))

    def form(
        self,
        visit: str,
        form: str,
        rows: dict[tuple[str, int], dict[str, Any]],
        *,
        complete: bool = True,
        repeat: int = 1,
        reason: str | None = None,
    ) -> None:
        """Save ``rows`` ({(group, key): {item: typed value}}; None leaves an item out) as
        the text a user types, and remember the values."""
        submitted = {}
        for (group, key), row in rows.items():
            row = self._with_laboratory(form, group, row)
            for item, value in row.items():
                first = value.earliest() if isinstance(value, PartialDate) else value
                future = isinstance(first, date) and first > self.horizon
                if future and item not in _PLANNED:  # a generator bug
                    raise AssertionError(f"{visit}.{form}.{group}: {value} after {self.horizon}")
            submitted[(group, key)] = self._typed(form, row)
            self._remember(visit, form, group, key, row)
        self.steps.append(SaveForm(visit, repeat, form, submitted, complete, reason))

    def _with_laboratory(self, form: str, group: str, row: dict[str, Any]) -> dict[str, Any]:
        """A lab form's row names the patient's laboratory."""
        named = next((i.oid for i in _GROUPS[(form, group)].items if i.cdash == "LBNAM"), None)
        if named is None or self.laboratory_name is None or named in row:
            return row
        return {**row, named: self.laboratory_name}

    def _typed(self, form: str, row: dict[str, Any]) -> dict[str, Any]:
        """The row as typed: values of the laboratory's own units converted, with the unit
        chosen beside the value (a limit of normal follows its value's unit)."""
        typed = {}
        for item, value in row.items():
            if value is None:
                continue
            units, leader = _UNITS.get((form, item), ({}, item))
            symbol = self.reported_units.get(leader)
            if units and symbol and not isinstance(value, Missing) and f"{leader}.unit" not in row:
                typed[item] = typed_text(in_unit(value, units[symbol]))
                if leader == item:
                    typed[f"{item}.unit"] = symbol
            else:
                typed[item] = typed_text(value)
        return typed

    def single(self, form: str, values: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
        """Items of a form's non-repeating groups, each placed in its group."""
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        for item, value in values.items():
            rows.setdefault((_SINGLE[(form, item)], 1), {})[item] = value
        return rows

    def _remember(self, visit: str, form: str, group: str, key: int, row: dict[str, Any]) -> None:
        """Keep the typed values of a saved row (None for a missing-data code)."""
        typed = {k: (None if isinstance(v, Missing) else v) for k, v in row.items()}
        if _GROUPS[(form, group)].repeating:
            rows = self.values.setdefault(f"{visit}.{form}.{group}[]", {})
            rows.setdefault(key, {}).update(typed)
        else:
            for item, value in typed.items():
                self.values[f"{visit}.{form}.{item}"] = value

    def remove_row(self, visit: str, form: str, group: str, key: int, reason: str) -> None:
        """Remove a row saved by mistake (flagged removed with its reason, never deleted)."""
        self.steps.append(RemoveRow(visit, 1, form, group, key, reason))
        del self.values[f"{visit}.{form}.{group}[]"][key]

    def lookup(self, ref: str) -> Any:
        """The value of ``ref`` ("VISIT.FORM.ITEM"), or the rows of "VISIT.FORM.GROUP[]"."""
        if ref.endswith("[]"):
            rows = self.values.get(ref, {})
            return [rows[k] for k in sorted(rows)]
        return self.values.get(ref)

    def status(self, status: str, reason: str) -> None:
        """The investigator's decision: the subject's new status."""
        self.steps.append(ChangeStatus(status, reason))
