"""Every subject of a dashboard's sites with its visit schedule and the state of its forms,
read in four statements whatever the number of subjects (no statement per subject).

Only what the schedule needs is read of the captured values: the items the reference dates
(D0, T0...) and the sub-groups come from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from ecrf.dashboards.scope import Scope
from ecrf.extensions import db
from ecrf.records import fields, units
from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    EntryStatus,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Subject,
    SubjectVisit,
)
from ecrf.records.schedule_data import schedule_items
from ecrf.study.schedule import VisitSlot, build_schedule


@dataclass(frozen=True)
class EntryState:
    id: int
    form_oid: str
    status: EntryStatus


@dataclass
class SubjectSchedule:
    subject: Subject
    slots: list[VisitSlot]
    #: (visit OID, repeat key) → {form OID: its entry's state}
    entries: dict[tuple[str, int], dict[str, EntryState]] = field(default_factory=dict)

    def forms_at(self, slot: VisitSlot) -> dict[str, EntryState]:
        return self.entries.get((slot.definition.oid, slot.repeat_key), {})


def load_schedules(study: LoadedStudy, scope: Scope) -> list[SubjectSchedule]:
    """The schedule of every subject of ``scope``'s sites, by site and number."""
    subjects = list(
        db.session.scalars(
            sa.select(Subject)
            .where(Subject.site_id.in_(scope.site_ids))
            .order_by(Subject.site_id, Subject.number)
        )
    )
    if not subjects:
        return []
    in_scope = scope.subject_ids()
    visits = db.session.scalars(
        sa.select(SubjectVisit).where(SubjectVisit.subject_id.in_(in_scope))
    ).all()
    visit_by_id = {v.id: v for v in visits}
    entries = db.session.execute(
        sa.select(FormEntry.id, FormEntry.visit_id, FormEntry.form_oid, FormEntry.status)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(SubjectVisit.subject_id.in_(in_scope))
    ).all()
    needed = schedule_items(study)
    values = []
    if needed:
        values = db.session.execute(
            sa.select(
                FormEntry.visit_id,
                FormEntry.form_oid,
                ItemGroupRow.group_oid,
                ItemGroupRow.repeat_key,
                ItemValue.item_oid,
                ItemValue.value_text,
                ItemValue.unit,
            )
            .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
            .join(FormEntry, ItemGroupRow.entry_id == FormEntry.id)
            .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
            .where(
                SubjectVisit.subject_id.in_(in_scope),
                ItemGroupRow.removed.is_(False),
                FormEntry.form_oid.in_({f for _, f, _ in needed}),
                ItemValue.item_oid.in_({i for _, _, i in needed}),
            )
        ).all()

    data = {s.id: SubjectData(study, s) for s in subjects}
    states: dict[int, dict[tuple[str, int], dict[str, EntryState]]] = defaultdict(dict)
    for visit in visits:
        data[visit.subject_id].visits[(visit.visit_oid, visit.repeat_key)] = visit
    for entry_id, visit_id, form_oid, status in entries:
        visit = visit_by_id[visit_id]
        key = (visit.visit_oid, visit.repeat_key)
        states[visit.subject_id].setdefault(key, {})[form_oid] = EntryState(
            entry_id, form_oid, status
        )
    for visit_id, form_oid, group_oid, repeat_key, item_oid, text, unit in values:
        visit = visit_by_id[visit_id]
        if (visit.visit_oid, form_oid, item_oid) not in needed:
            continue
        if not study.has_item(form_oid, item_oid):
            continue
        subject_data = data[visit.subject_id]
        entry = subject_data.entries.setdefault(
            (visit.visit_oid, visit.repeat_key, form_oid), EntryData(form_oid, None)
        )
        row = entry.rows.setdefault((group_oid, repeat_key), RowData(group_oid, repeat_key))
        item = study.item(form_oid, item_oid)[1]
        typed = fields.load(item, text)
        if item.multi_unit and typed is not None:
            typed = units.to_standard(item, typed, unit or item.standard_unit.symbol)
        row.values[item_oid] = typed

    return [
        SubjectSchedule(s, build_schedule(study, data[s.id]), states.get(s.id, {}))
        for s in subjects
    ]
