"""The scheduled visits of every subject of a dashboard's sites, found in SQL: those
overdue or out of window, and the forms missing at those that took place.

The database crosses each subject with the study's scheduled visits and keeps only the
few slots that may need listing; Python then decides each of those exactly, with the
schedule's own rules (``ecrf.study.schedule``), from the few values a schedule reads (the
sources of the reference dates and the sub-group items), read alongside. One statement
per list whatever the number of subjects, and no row read for a visit that is in order.

The SQL filter only narrows: it compares the reference dates' sources with bounds
computed here (a source dated before ``today - window end`` makes the visit overdue), so
that no date arithmetic runs in the database, and the sub-groups by the text of their
item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ecrf.dashboards.scope import Scope
from ecrf.extensions import db
from ecrf.records import fields, units
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    EntryStatus,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Subject,
    SubjectStatus,
    SubjectVisit,
)
from ecrf.study.schedule import applicable, reference_dates, visit_window
from forms.language import Visit as VisitDef
from forms.language import VisitKind

#: Subjects who left the study: no visit is due any more (as on the subject matrix).
ENDED = frozenset({SubjectStatus.SCREEN_FAILURE, SubjectStatus.WITHDRAWN, SubjectStatus.COMPLETED})


@dataclass(frozen=True)
class Slot:
    """A scheduled visit of a subject that a list may show, with its window."""

    site_id: int
    subject: str
    number: int
    status: SubjectStatus
    definition: VisitDef
    visit_date: date | None
    out_of_window: bool
    #: Whether any form was entered at the visit.
    has_forms: bool
    applicable: bool
    due: date | None
    earliest: date | None
    latest: date | None

    def overdue(self, today: date) -> bool:
        """Past its window with nothing recorded, of a subject still in the study (the
        rule of ``VisitSlot.overdue`` and of the subject matrix)."""
        return (
            self.status not in ENDED
            and self.applicable
            and self.visit_date is None
            and not self.has_forms
            and self.latest is not None
            and today > self.latest
        )


class _Inputs:
    """What a schedule reads of one subject, as ``reference_dates`` and ``applicable``
    ask it (the interface of ``SubjectData``), from one row of the statement."""

    def __init__(self, study: LoadedStudy, row: Any, names: dict[str, str]) -> None:
        self.study = study
        self._row = row
        self._names = names

    def visit_date(self, visit_oid: str) -> date | None:
        return self._row._mapping[self._names[f"visit:{visit_oid}"]]

    def value(self, visit_oid: str, form_oid: str, item_oid: str) -> Any:
        name = self._names.get(f"{visit_oid}.{form_oid}.{item_oid}")
        text = self._row._mapping[name] if name else None
        if text is None or not self.study.has_item(form_oid, item_oid):
            return None
        item = self.study.item(form_oid, item_oid)[1]
        typed = fields.load(item, text)
        if item.multi_unit and typed is not None:
            unit = self._row._mapping[f"{name}_unit"]
            typed = units.to_standard(item, typed, unit or item.standard_unit.symbol)
        return typed

    def in_subgroup(self, name: str) -> bool:
        subgroup = self.study.subgroups[name]
        visit_oid, form_oid, item_oid = subgroup.item.split(".")
        return self.value(visit_oid, form_oid, item_oid) == subgroup.value


def _scheduled(study: LoadedStudy) -> list[VisitDef]:
    return [v for v in study.visits_in_order() if v.kind is VisitKind.SCHEDULED]


def _value_of(study: LoadedStudy, source: str, column) -> sa.ScalarSelect:
    """The text (or unit) of a ``VISIT.FORM.ITEM`` value of the subject: in the first row
    of its group, not removed, at the first occurrence of the visit holding it."""
    visit_oid, form_oid, item_oid = source.split(".")
    group_oid = study.item(form_oid, item_oid)[0].oid
    return (
        sa.select(column)
        .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
        .join(FormEntry, ItemGroupRow.entry_id == FormEntry.id)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(
            SubjectVisit.subject_id == Subject.id,
            SubjectVisit.visit_oid == visit_oid,
            FormEntry.form_oid == form_oid,
            ItemGroupRow.group_oid == group_oid,
            ItemGroupRow.repeat_key == 1,
            ItemGroupRow.removed.is_(False),
            ItemValue.item_oid == item_oid,
        )
        .order_by(SubjectVisit.repeat_key)
        .limit(1)
        .scalar_subquery()
    )


def _subjects(study: LoadedStudy, scope: Scope) -> tuple[sa.CTE, dict[str, str]]:
    """The scope's subjects, each with the sources of its reference dates and sub-groups
    as columns; and the column's name of each source."""
    names: dict[str, str] = {}
    columns = []
    sources = [s for r in study.references.values() for s in r.sources]
    sources += [g.item for g in study.subgroups.values()]
    for source in dict.fromkeys(sources):
        name = f"s{len(names)}"
        if source.startswith("visit:"):
            visit = (
                sa.select(SubjectVisit.visit_date)
                .where(
                    SubjectVisit.subject_id == Subject.id,
                    SubjectVisit.visit_oid == source[6:],
                    SubjectVisit.repeat_key == 1,
                )
                .scalar_subquery()
            )
            columns.append(visit.label(name))
        else:
            if not study.has_item(*source.split(".")[1:]):
                continue
            columns.append(_value_of(study, source, ItemValue.value_text).label(name))
            columns.append(_value_of(study, source, ItemValue.unit).label(f"{name}_unit"))
        names[source] = name
    subjects = (
        sa.select(
            Subject.id,
            Subject.site_id,
            Subject.identifier,
            Subject.number,
            Subject.status,
            *columns,
        )
        .where(Subject.site_id.in_(scope.site_ids))
        # Once per subject, not once per visit and form it is crossed with.
        .cte("subjects")
        .prefix_with("MATERIALIZED")
    )
    return subjects, names


def _before(
    study: LoadedStudy,
    subjects: sa.CTE,
    names: dict[str, str],
    reference: str,
    bound: date,
    depth: int = 0,
) -> sa.ColumnElement[bool]:
    """Whether the subject's ``reference`` date may lie before ``bound``: its first source
    that has a date is before it, or (none has) the reference it is offset from is
    before ``bound`` less the offset."""
    definition = study.references[reference]
    alternatives = []
    earlier_missing: list[sa.ColumnElement[bool]] = []
    for source in definition.sources:
        if source not in names:
            continue
        column = subjects.c[names[source]]
        value = bound if source.startswith("visit:") else bound.isoformat()
        alternatives.append(sa.and_(*earlier_missing, column.is_not(None), column < value))
        earlier_missing.append(column.is_(None))
    if definition.offset_from and depth < 5:  # as deep as reference_dates goes
        base, days = definition.offset_from
        try:
            shifted = bound - timedelta(days=days)
        except OverflowError:
            shifted = None
        if shifted is not None:
            alternatives.append(
                sa.and_(*earlier_missing, _before(study, subjects, names, base, shifted, depth + 1))
            )
    return sa.or_(*alternatives) if alternatives else sa.false()


def _in_subgroup(
    study: LoadedStudy, subjects: sa.CTE, names: dict[str, str], name: str | None
) -> sa.ColumnElement[bool]:
    if name is None:
        return sa.true()
    subgroup = study.subgroups[name]
    if subgroup.item not in names:
        return sa.false()
    return subjects.c[names[subgroup.item]] == str(subgroup.value)


def _slots(study: LoadedStudy, rows, names: dict[str, str]) -> list[Slot]:
    """Each row's slot with its window, by the schedule's own rules."""
    definitions = {v.oid: v for v in _scheduled(study)}
    found = []
    references: dict[int, tuple[_Inputs, dict[str, date | None]]] = {}
    for row in rows:
        if row.id not in references:
            inputs = _Inputs(study, row, names)
            references[row.id] = (inputs, reference_dates(study, inputs))  # type: ignore[arg-type]
        inputs, dates = references[row.id]
        definition = definitions[row.visit_oid]
        window = visit_window(definition, dates) or (None, None, None)
        found.append(
            Slot(
                row.site_id,
                row.identifier,
                row.number,
                row.status,
                definition,
                row.visit_date,
                bool(row.out_of_window),
                bool(row.has_forms),
                applicable(study, inputs, definition),  # type: ignore[arg-type]
                *window,
            )
        )
    return found


def _definitions(study: LoadedStudy, with_forms: bool) -> sa.CTE:
    """The scheduled visits (each with each of its forms) as a table: visit OID, form OID."""
    parts = [
        sa.select(
            sa.literal(v.oid, sa.String).label("visit_oid"),
            sa.literal(form_oid if with_forms else "", sa.String).label("form_oid"),
        )
        for v in _scheduled(study)
        for form_oid in (v.forms if with_forms else ("",))
    ]
    return sa.union_all(*parts).subquery("definitions")


def late_or_out_of_window(study: LoadedStudy, scope: Scope) -> list[Slot]:
    """The scheduled visits of the scope's subjects that are overdue or were done out of
    their window, by site, subject number and the protocol's order of visits."""
    if not _scheduled(study):
        return []
    today = scope.today
    subjects, names = _subjects(study, scope)
    definitions = _definitions(study, with_forms=False)
    has_forms = sa.select(FormEntry.id).where(FormEntry.visit_id == SubjectVisit.id).exists()
    may_be_late = []
    for v in _scheduled(study):
        if v.reference is None:
            continue
        try:
            bound = today - timedelta(days=v.window[1])
        except OverflowError:
            continue
        may_be_late.append(
            sa.and_(
                definitions.c.visit_oid == v.oid,
                _in_subgroup(study, subjects, names, v.subgroup),
                _before(study, subjects, names, v.reference, bound),
            )
        )
    rows = db.session.execute(
        sa.select(
            subjects,
            definitions.c.visit_oid,
            SubjectVisit.visit_date,
            SubjectVisit.out_of_window,
            sa.case((has_forms, 1), else_=0).label("has_forms"),
        )
        .select_from(subjects)
        .join(definitions, sa.true())
        .outerjoin(
            SubjectVisit,
            sa.and_(
                SubjectVisit.subject_id == subjects.c.id,
                SubjectVisit.visit_oid == definitions.c.visit_oid,
                SubjectVisit.repeat_key == 1,
            ),
        )
        .where(
            sa.or_(
                SubjectVisit.out_of_window.is_(True),
                sa.and_(
                    subjects.c.status.not_in(sorted(ENDED)),
                    SubjectVisit.visit_date.is_(None),
                    ~has_forms,
                    sa.or_(*may_be_late),
                ),
            )
        )
    ).all()
    order = {v.oid: n for n, v in enumerate(_scheduled(study))}
    rows.sort(key=lambda r: (r.site_id, r.number, order[r.visit_oid]))
    return [s for s in _slots(study, rows, names) if s.out_of_window or s.overdue(today)]


@dataclass(frozen=True)
class MissingForm:
    slot: Slot
    form_oid: str
    #: The entry's status, None when not started.
    status: EntryStatus | None


def missing_forms(study: LoadedStudy, scope: Scope) -> list[MissingForm]:
    """The forms not complete at the scheduled visits that took place (a visit date
    recorded) and apply to the subject, of subjects other than screen failures; by site,
    subject number, the protocol's order of visits and each visit's order of forms."""
    if not _scheduled(study):
        return []
    subjects, names = _subjects(study, scope)
    definitions = _definitions(study, with_forms=True)
    subgroups = [
        sa.and_(
            definitions.c.visit_oid == v.oid,
            _in_subgroup(study, subjects, names, v.subgroup),
        )
        for v in _scheduled(study)
        if v.subgroup is not None
    ]
    with_subgroup = [v.oid for v in _scheduled(study) if v.subgroup is not None]
    rows = db.session.execute(
        sa.select(
            subjects,
            definitions.c.visit_oid,
            definitions.c.form_oid,
            SubjectVisit.visit_date,
            SubjectVisit.out_of_window,
            sa.literal(1).label("has_forms"),  # unread here: only overdue() reads it
            FormEntry.status.label("entry_status"),
        )
        .select_from(subjects)
        .join(SubjectVisit, SubjectVisit.subject_id == subjects.c.id)
        .join(definitions, definitions.c.visit_oid == SubjectVisit.visit_oid)
        .outerjoin(
            FormEntry,
            sa.and_(
                FormEntry.visit_id == SubjectVisit.id,
                FormEntry.form_oid == definitions.c.form_oid,
            ),
        )
        .where(
            subjects.c.status != SubjectStatus.SCREEN_FAILURE,
            SubjectVisit.repeat_key == 1,
            SubjectVisit.visit_date.is_not(None),
            sa.or_(FormEntry.id.is_(None), FormEntry.status != EntryStatus.COMPLETE),
            sa.or_(definitions.c.visit_oid.not_in(with_subgroup), *subgroups),
        )
    ).all()
    visit_order = {v.oid: n for n, v in enumerate(_scheduled(study))}
    form_order = {(v.oid, f): n for v in _scheduled(study) for n, f in enumerate(v.forms)}
    rows.sort(
        key=lambda r: (
            r.site_id,
            r.number,
            visit_order[r.visit_oid],
            form_order[(r.visit_oid, r.form_oid)],
        )
    )
    slots = _slots(study, rows, names)
    return [
        MissingForm(slot, row.form_oid, row.entry_status)
        for slot, row in zip(slots, rows, strict=True)
        if slot.applicable
    ]
