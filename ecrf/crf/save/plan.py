"""The records the steps of a save hand each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ecrf.auth.models import User
from ecrf.records.data import RowData, SubjectData
from ecrf.records.fields import Stored
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Subject
from forms.language import Form
from forms.language import Visit as VisitDef

#: (item group OID, repeat key): a row of a form.
RowKey = tuple[str, int]
#: What the user typed: {(group OID, repeat key): {item OID: text, or texts for a multi-choice}},
#: and for an item with several units the UCUM symbol of the unit chosen, under
#: ``unit_key(item OID)``.
Submitted = dict[RowKey, dict[str, str | list[str]]]


def unit_key(item_oid: str) -> str:
    """Where a row of ``Submitted`` gives the unit of ``item_oid`` ("CREAT.unit")."""
    return f"{item_oid}.unit"


@dataclass
class FormSave:
    """One save of one form of one visit: who, where, and the day it is checked against."""

    study: LoadedStudy
    subject: Subject
    visit_def: VisitDef
    form: Form
    visit_repeat: int
    actor: User | None
    today: date

    @property
    def visit_oid(self) -> str:
        return self.visit_def.oid

    @property
    def form_oid(self) -> str:
        return self.form.oid

    @property
    def site_id(self) -> int:
        return self.subject.site_id

    @property
    def entry_key(self) -> tuple[str, int, str]:
        """(visit OID, visit repeat, form OID): the entry's key in ``SubjectData``."""
        return (self.visit_def.oid, self.visit_repeat, self.form.oid)


@dataclass
class PlannedRow:
    """A row as it will be after the save: typed values (in the standard unit of items with
    several units), missing-data codes, and such items' values as entered with their unit."""

    values: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    entered: dict[str, tuple[Any, str]] = field(default_factory=dict)


#: The rows the save touches, parsed once: {(group OID, repeat key): PlannedRow}.
Planned = dict[RowKey, PlannedRow]


@dataclass(frozen=True)
class ValueChange:
    """One stored value that the save changes (old and new as the audit trail reads them)."""

    group_oid: str
    row_key: int
    item_oid: str
    old: str | None
    value: Any  # the typed value, as parsed
    stored: Stored  # its canonical text and typed copies, as written
    new_missing: str | None

    @property
    def new_text(self) -> str | None:
        return self.stored.text


def merge_planned(data: SubjectData, save: FormSave, planned: Planned) -> None:
    """Put the planned rows into the subject's data, so derivations and checks read the data
    as it would be after the save."""
    entry_data = data.entry(save.visit_oid, save.visit_repeat, save.form_oid)
    for (group_oid, key), row in planned.items():
        target = entry_data.rows.setdefault((group_oid, key), RowData(group_oid, key))
        target.values.update(row.values)
        target.entered = {
            **{k: v for k, v in target.entered.items() if k not in row.values},
            **row.entered,
        }
        target.missing = {
            **{k: v for k, v in target.missing.items() if k not in row.values},
            **row.missing,
        }
