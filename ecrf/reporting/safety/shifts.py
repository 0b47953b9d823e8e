"""Laboratory shift tables: each analyte's CTCAE grade at baseline against its worst grade
after the treatment start (T0), for the subjects of the treated sub-group.

Baseline is the last graded sample on or before T0: the pre-administration labs of the
treatment visit, else screening. A sample taken on T0's day counts as baseline (the
protocol draws them before the infusion) unless its time says it was taken after the
start of the administration. Post-treatment is every sample after that.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from ecrf.exports.stream import iter_rows
from ecrf.records.loader import LoadedStudy
from ecrf.reporting.safety.values import as_date, as_int, as_time, text
from forms.reports import LabGrades, TreatmentStart


@dataclass(frozen=True)
class Analyte:
    """A graded laboratory test: where its grade is, and its names."""

    testcd: str
    form: str
    grade_item: str
    label: str
    term: str


def analytes(study: LoadedStudy, labs: LabGrades) -> list[Analyte]:
    """The graded tests of the plan's forms, in the definition's order, named by the label
    of their result item and their CTCAE term."""
    grade_pattern = re.compile(rf"^{re.escape(labs.grade_annotation)}\[([A-Z0-9]+)\]$")
    terms = dict(labs.terms)
    codelist = study.codelists.get(labs.term_codelist)
    found: dict[str, Analyte] = {}
    for form_oid in labs.forms:
        items = [item for _, item in study.forms[form_oid].items()]
        results = {item.sdtm: item.label for item in items if item.sdtm}
        for item in items:
            match = grade_pattern.match(item.sdtm or "")
            if not match or match.group(1) in found:
                continue
            testcd = match.group(1)
            term = terms.get(testcd, "")
            found[testcd] = Analyte(
                testcd=testcd,
                form=form_oid,
                grade_item=item.oid,
                label=results.get(f"{labs.result_annotation}[{testcd}]", testcd),
                term=codelist.label(term) if codelist and term else term,
            )
    return list(found.values())


@dataclass(frozen=True)
class Start:
    day: date
    clock: time | None


def treatment_starts(
    study: LoadedStudy, treatment: TreatmentStart, site_ids: Collection[int] | None
) -> tuple[dict[str, Start], int]:
    """T0 of each subject of the sub-group who received the treatment, and how many
    subjects the sub-group holds (treated or not)."""
    subgroup = study.subgroups[treatment.subgroup]
    visit_oid, form_oid, item_oid = subgroup.item.split(".")
    members = {
        row.subject
        for row in iter_rows(site_ids, form_oid=form_oid)
        if row.visit_oid == visit_oid and text(row, item_oid) == str(subgroup.value)
    }
    starts = {}
    for row in iter_rows(site_ids, form_oid=treatment.form):
        if row.visit_oid != treatment.visit or row.group_oid != treatment.group:
            continue
        day = as_date(text(row, treatment.date))
        if day is not None and row.subject in members:
            starts[row.subject] = Start(day, as_time(text(row, treatment.time)))
    return starts, len(members)


def _before_start(day: date, clock: time | None, start: Start) -> bool:
    if day != start.day:
        return day < start.day
    return clock is None or start.clock is None or clock <= start.clock


@dataclass
class _Course:
    """One subject's grades of one analyte around T0."""

    #: (sample date, stream position) of the baseline kept so far, and its grade.
    baseline_at: tuple[date, int] | None = None
    baseline: int | None = None
    worst: int | None = None


def shift_tables(
    study: LoadedStudy,
    labs: LabGrades,
    treatment: TreatmentStart,
    site_ids: Collection[int] | None,
) -> dict[str, Any]:
    """Per analyte, subjects counted by (baseline grade, worst post-treatment grade)."""
    tests = analytes(study, labs)
    starts, members = treatment_starts(study, treatment, site_ids)
    courses: dict[tuple[str, str], _Course] = {}
    by_form: dict[str, list[Analyte]] = {}
    for analyte in tests:
        by_form.setdefault(analyte.form, []).append(analyte)
    for position, row in enumerate(iter_rows(site_ids, form_oid=list(by_form))):
        start = starts.get(row.subject)
        if start is None:
            continue
        day = as_date(text(row, labs.date)) or row.visit_date
        if day is None:
            continue
        baseline = _before_start(day, as_time(text(row, labs.time)), start)
        for analyte in by_form[row.form_oid]:
            grade = as_int(text(row, analyte.grade_item))
            if grade is None:
                continue
            course = courses.setdefault((analyte.testcd, row.subject), _Course())
            if baseline:
                if course.baseline_at is None or (day, position) >= course.baseline_at:
                    course.baseline_at, course.baseline = (day, position), grade
            else:
                course.worst = grade if course.worst is None else max(course.worst, grade)
    return {
        "treated": len(starts),
        "members": members,
        "analytes": [_table(labs, analyte, courses, starts) for analyte in tests],
    }


def _table(
    labs: LabGrades,
    analyte: Analyte,
    courses: dict[tuple[str, str], _Course],
    starts: dict[str, Start],
) -> dict[str, Any]:
    pairs = []
    without_baseline = without_post = 0
    for subject in starts:
        course = courses.get((analyte.testcd, subject))
        if course is None or course.baseline is None:
            without_baseline += 1
        elif course.worst is None:
            without_post += 1
        else:
            pairs.append((course.baseline, course.worst))
    grades = sorted(set(labs.grades) | {g for pair in pairs for g in pair})
    counts = {(b, w): 0 for b in grades for w in grades}
    for pair in pairs:
        counts[pair] += 1
    rows = [
        {
            "grade": b,
            "cells": [{"count": counts[(b, w)], "worse": w > b, "same": w == b} for w in grades],
            "total": sum(counts[(b, w)] for w in grades),
        }
        for b in grades
    ]
    return {
        "testcd": analyte.testcd,
        "label": analyte.label,
        "term": analyte.term,
        "grades": grades,
        "rows": rows,
        "column_totals": [sum(counts[(b, w)] for b in grades) for w in grades],
        "subjects": len(pairs),
        "worsened": sum(1 for b, w in pairs if w > b),
        "without_baseline": without_baseline,
        "without_post": without_post,
    }
