"""Read models for pages: the subject matrix and one subject's schedule with form states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.queries.listing import subject_queries, unresolved_counts
from ecrf.queries.models import Query
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    EntryStatus,
    Finding,
    FindingStatus,
    FormEntry,
    Subject,
    SubjectStatus,
)
from ecrf.records.schedule_data import load_schedule_data
from ecrf.study.schedule import VisitSlot, build_schedule, reference_dates
from forms.language import VisitKind


@dataclass
class FormState:
    form_oid: str
    name: str
    status: str  # not_started | draft | complete
    entry: FormEntry | None = None
    open_findings: int = 0
    #: Queries on the form (or on its rows and items) not closed yet.
    open_queries: int = 0

    @property
    def label(self) -> str:
        return {"not_started": "Not started", "draft": "In progress", "complete": "Complete"}[
            self.status
        ]


ENDED = frozenset({SubjectStatus.SCREEN_FAILURE, SubjectStatus.WITHDRAWN, SubjectStatus.COMPLETED})


@dataclass
class Cell:
    """One visit of one subject, summarised for the matrix."""

    slot: VisitSlot
    forms: list[FormState] = field(default_factory=list)
    today: date | None = None
    #: The subject left the study (screen failure, withdrawn, completed): no visit is due.
    ended: bool = False
    #: Queries on the visit itself not closed yet.
    visit_queries: int = 0

    @property
    def state(self) -> str:
        if not self.slot.applicable:
            return "na"
        statuses = {f.status for f in self.forms}
        if statuses <= {"complete"} and self.forms:
            return "complete"
        if statuses == {"not_started"} and self.slot.visit_date is None:
            if self.ended:
                return "na"
            return "overdue" if self.today and self.slot.overdue(self.today) else "not_started"
        return "in_progress"

    @property
    def label(self) -> str:
        if self.state == "na":
            return "not done (left the study)" if self.slot.applicable else "not applicable"
        done = sum(f.status == "complete" for f in self.forms)
        text = {
            "complete": "complete",
            "not_started": "not started",
            "overdue": "overdue",
            "in_progress": f"{done}/{len(self.forms)} complete",
        }[self.state]
        return text

    @property
    def open_findings(self) -> int:
        return sum(f.open_findings for f in self.forms)

    @property
    def open_queries(self) -> int:
        return self.visit_queries + sum(f.open_queries for f in self.forms)


@dataclass(frozen=True)
class Counts:
    """Open findings by form entry; queries not closed by form entry and by visit."""

    findings: dict[int, int]
    entry_queries: dict[int, int]
    visit_queries: dict[int, int]


def _counts(subject_ids: list[int]) -> Counts:
    """Open findings and queries not closed of these subjects, counted in the database."""
    findings = dict(
        db.session.execute(
            sa.select(Finding.entry_id, sa.func.count())
            .where(Finding.subject_id.in_(subject_ids), Finding.status == FindingStatus.OPEN)
            .group_by(Finding.entry_id)
        ).all()
    )
    entry_queries, visit_queries = unresolved_counts(subject_ids)
    return Counts(findings, entry_queries, visit_queries)


def visit_cells(
    study: LoadedStudy, subject: Subject, data: SubjectData, counts: Counts
) -> list[Cell]:
    today = utcnow().date()
    cells = []
    for slot in build_schedule(study, data):
        cell = Cell(slot, today=today, ended=subject.status in ENDED)
        if slot.record is not None:
            cell.visit_queries = counts.visit_queries.get(slot.record.id, 0)
        for form_oid in slot.definition.forms:
            found = data.entry(slot.definition.oid, slot.repeat_key, form_oid)
            entry = found.entry if found else None
            status = "not_started" if entry is None else entry.status.value
            cell.forms.append(
                FormState(
                    form_oid,
                    study.forms[form_oid].name,
                    "complete" if status == EntryStatus.COMPLETE.value else status,
                    entry,
                    counts.findings.get(entry.id, 0) if entry else 0,
                    counts.entry_queries.get(entry.id, 0) if entry else 0,
                )
            )
        cells.append(cell)
    return cells


@dataclass
class MatrixRow:
    subject: Subject
    cells: dict[str, Cell]
    unscheduled: int
    open_findings: int
    open_queries: int = 0


def matrix_columns(study: LoadedStudy):
    return [v for v in study.visits_in_order() if v.kind is not VisitKind.UNSCHEDULED]


def matrix(study: LoadedStudy, subjects: list[Subject]) -> list[MatrixRow]:
    """Subjects × visits with each cell's state, for one page of subjects: the same few
    statements whatever the number of subjects and whatever data they hold."""
    if not subjects:
        return []
    loaded = load_schedule_data(study, subjects)
    counts = _counts([s.id for s in subjects])
    rows = []
    for subject in subjects:
        cells = visit_cells(study, subject, loaded[subject.id], counts)
        by_visit = {
            c.slot.definition.oid: c
            for c in cells
            if c.slot.definition.kind is not VisitKind.UNSCHEDULED
        }
        unscheduled = sum(1 for c in cells if c.slot.definition.kind is VisitKind.UNSCHEDULED)
        rows.append(
            MatrixRow(
                subject,
                by_visit,
                unscheduled,
                sum(c.open_findings for c in cells),
                sum(c.open_queries for c in cells),
            )
        )
    return rows


@dataclass
class SubjectOverview:
    subject: Subject
    data: SubjectData
    cells: list[Cell]
    references: dict[str, date | None]
    findings: list[Finding]
    #: Queries not closed yet.
    queries: list[Query] = field(default_factory=list)


def subject_overview(study: LoadedStudy, subject: Subject) -> SubjectOverview:
    data = SubjectData.load(study, subject)
    counts = _counts([subject.id])
    findings = list(
        db.session.scalars(
            sa.select(Finding)
            .where(Finding.subject_id == subject.id, Finding.status == FindingStatus.OPEN)
            .order_by(Finding.id)
        )
    )
    return SubjectOverview(
        subject,
        data,
        visit_cells(study, subject, data, counts),
        reference_dates(study, data),
        findings,
        subject_queries(subject.id),
    )
