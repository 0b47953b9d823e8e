"""Visit schedule: reference dates (D0, T0), due dates, windows and sub-groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import SubjectVisit
from forms.language import Visit as VisitDef
from forms.language import VisitKind


@dataclass
class VisitSlot:
    """One visit of a subject's schedule, done or not."""

    definition: VisitDef
    repeat_key: int
    record: SubjectVisit | None
    applicable: bool
    due: date | None = None
    earliest: date | None = None
    latest: date | None = None

    @property
    def visit_date(self) -> date | None:
        return self.record.visit_date if self.record else None

    @property
    def out_of_window(self) -> bool:
        return bool(self.record and self.record.out_of_window)

    def overdue(self, today: date) -> bool:
        return (
            self.applicable
            and self.visit_date is None
            and self.latest is not None
            and today > self.latest
        )


def reference_dates(
    study: LoadedStudy, data: SubjectData, visit_dates: dict[str, date | None] | None = None
) -> dict[str, date | None]:
    """D0, T0... of a subject; ``visit_dates`` stand in for the recorded dates of visits."""
    resolved: dict[str, date | None] = {}
    visit_dates = visit_dates or {}

    def resolve(name: str, depth: int = 0) -> date | None:
        if name in resolved:
            return resolved[name]
        reference = study.references[name]
        found: date | None = None
        for source in reference.sources:
            if source.startswith("visit:"):
                oid = source[6:]
                found = visit_dates[oid] if oid in visit_dates else data.visit_date(oid)
            else:
                visit_oid, form_oid, item_oid = source.split(".")
                found = data.value(visit_oid, form_oid, item_oid)
            if found is not None:
                break
        if found is None and reference.offset_from and depth < 5:
            base = resolve(reference.offset_from[0], depth + 1)
            found = _shift(base, reference.offset_from[1]) if base else None
        resolved[name] = found
        return found

    for name in study.references:
        resolve(name)
    return resolved


def visit_window(
    definition: VisitDef, references: dict[str, date | None]
) -> tuple[date, date, date] | None:
    """(due, earliest, latest) of a scheduled visit, or None while its reference is unknown."""
    if definition.kind is not VisitKind.SCHEDULED or definition.reference is None:
        return None
    base = references.get(definition.reference)
    if base is None:
        return None
    low, high = definition.window
    days = (_shift(base, definition.offset_days), _shift(base, low), _shift(base, high))
    return None if None in days else days  # type: ignore[return-value]


def _shift(day: date, days: int) -> date | None:
    """``day`` moved by ``days``, or None beyond the calendar (years 1 to 9999): a date
    stored before dates were bounded must not break a page."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def fits_calendar(study: LoadedStudy, references: dict[str, date | None]) -> bool:
    """Whether every reference and due date and window computed from ``references`` is a
    date of the calendar."""
    for reference in study.references.values():
        base = references.get(reference.offset_from[0]) if reference.offset_from else None
        if base is not None and _shift(base, reference.offset_from[1]) is None:
            return False
    return all(
        visit_window(v, references) is not None
        for v in study.visits_in_order()
        if v.kind is VisitKind.SCHEDULED and v.reference and references.get(v.reference)
    )


def applicable(study: LoadedStudy, data: SubjectData, definition: VisitDef) -> bool:
    return definition.subgroup is None or data.in_subgroup(definition.subgroup)


def build_schedule(study: LoadedStudy, data: SubjectData) -> list[VisitSlot]:
    """The subject's visits in protocol order; unscheduled visits once per occurrence."""
    references = reference_dates(study, data)
    slots: list[VisitSlot] = []
    for definition in study.visits_in_order():
        is_applicable = applicable(study, data, definition)
        if definition.kind is VisitKind.UNSCHEDULED:
            keys = sorted(k for (oid, k) in data.visits if oid == definition.oid)
            for key in keys:
                slots.append(VisitSlot(definition, key, data.visits[(definition.oid, key)], True))
            continue
        slot = VisitSlot(definition, 1, data.visits.get((definition.oid, 1)), is_applicable)
        window = visit_window(definition, references)
        if window:
            slot.due, slot.earliest, slot.latest = window
        slots.append(slot)
    return slots
