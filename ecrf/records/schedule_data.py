"""Many subjects' data at once, for the pages that list subjects: their visits and form
entries, and only the values their schedules read (reference dates, sub-groups).

A page of subjects costs the same few statements whatever its length and whatever each
subject holds: one per table, never one per subject, and no value the page does not show.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Subject, SubjectVisit


def schedule_items(study: LoadedStudy) -> set[tuple[str, str, str]]:
    """(visit OID, form OID, item OID) of the values a schedule reads: the dates the
    references come from and the items that place a subject in a sub-group."""
    found: set[tuple[str, str, str]] = set()
    for source in [s for r in study.references.values() for s in r.sources]:
        if not source.startswith("visit:"):
            visit_oid, form_oid, item_oid = source.split(".")
            found.add((visit_oid, form_oid, item_oid))
    for subgroup in study.subgroups.values():
        visit_oid, form_oid, item_oid = subgroup.item.split(".")
        found.add((visit_oid, form_oid, item_oid))
    return found


def load_schedule_data(study: LoadedStudy, subjects: Sequence[Subject]) -> dict[int, SubjectData]:
    """Each subject's :class:`SubjectData` with every visit and form entry but only the
    values of :func:`schedule_items`, by subject id, in three statements."""
    found = {s.id: SubjectData(study, s) for s in subjects}
    if not found:
        return found
    visits = db.session.scalars(
        sa.select(SubjectVisit).where(SubjectVisit.subject_id.in_(found))
    ).all()
    by_id = {v.id: v for v in visits}
    for visit in visits:
        found[visit.subject_id].visits[(visit.visit_oid, visit.repeat_key)] = visit
    # Each entry comes with its visit: on PostgreSQL every statement sees what was committed
    # before it, so a visit saved by another user after the first read may hold an entry here.
    entries = db.session.execute(
        sa.select(FormEntry, SubjectVisit)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(SubjectVisit.subject_id.in_(found))
        .order_by(FormEntry.id)
    ).all()
    for entry, visit in entries:
        if visit.id not in by_id:
            by_id[visit.id] = visit
            found[visit.subject_id].visits[(visit.visit_oid, visit.repeat_key)] = visit
        key = (visit.visit_oid, visit.repeat_key, entry.form_oid)
        found[visit.subject_id].entries[key] = EntryData(entry.form_oid, entry)
    wanted = [(v, f, i) for v, f, i in sorted(schedule_items(study)) if study.has_item(f, i)]
    if entries and wanted:
        _read_values(study, found, wanted)
    return found


def _read_values(
    study: LoadedStudy, found: dict[int, SubjectData], wanted: list[tuple[str, str, str]]
) -> None:
    rows = db.session.execute(
        sa.select(
            SubjectVisit.subject_id,
            SubjectVisit.visit_oid,
            SubjectVisit.repeat_key,
            FormEntry.form_oid,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemValue.item_oid,
            ItemValue.value_text,
            ItemValue.unit,
            ItemValue.missing_code,
        )
        .select_from(ItemValue)
        .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
        .join(FormEntry, ItemGroupRow.entry_id == FormEntry.id)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(
            SubjectVisit.subject_id.in_(found),
            ItemGroupRow.removed.is_(False),
            sa.or_(
                *(
                    sa.and_(
                        SubjectVisit.visit_oid == visit,
                        FormEntry.form_oid == form,
                        ItemValue.item_oid == item,
                    )
                    for visit, form, item in wanted
                )
            ),
        )
    )
    for subject_id, visit, repeat, form, group, key, item_oid, text, unit, missing in rows:
        entry = found[subject_id].entries.get((visit, repeat, form))
        if entry is None:  # saved by another user since the entries were read
            continue
        row = entry.rows.setdefault((group, key), RowData(group, key))
        row.read(study.item(form, item_oid)[1], text, unit, missing)
