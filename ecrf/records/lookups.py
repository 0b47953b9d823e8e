"""Entries found by a declared rule rather than named: an analyte's baseline sample
(``forms.language.Baseline``) and an item at this visit or the latest before it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from ecrf.records.data import RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from forms.language import Baseline

#: (visit OID, visit repeat key) of an entry.
VisitKey = tuple[str, int]


@dataclass(frozen=True)
class BaselineSample:
    """The baseline sample of one analyte: where it was entered and its row of values."""

    visit: VisitKey
    sampled: date
    row: RowData


def administration_date(data: SubjectData, baseline: Baseline) -> date | None:
    """The date of the event the baseline precedes: its first dated source."""
    for source in baseline.before:
        if source.startswith("visit:"):
            found = data.visit_date(source[6:])
        else:
            visit_oid, form_oid, item_oid = source.split(".")
            found = data.value(visit_oid, form_oid, item_oid)
        if found is not None:
            return found
    return None


@functools.lru_cache(maxsize=16)
def _visit_order(study: LoadedStudy) -> dict[str, int]:
    return {oid: index for index, oid in enumerate(study.visits)}


def baseline_sample(
    study: LoadedStudy, data: SubjectData, form_oid: str, analyte: str
) -> BaselineSample | None:
    """The last sample of ``form_oid`` (at any visit) giving ``analyte``, dated before the
    form's baseline event (or on its day, when the rule says so); None while that event is
    not dated or no sample precedes it. Two samples of one day: the later visit's."""
    baseline = study.forms[form_oid].baseline
    if baseline is None:
        return None
    administered = administration_date(data, baseline)
    if administered is None:
        return None
    group, _ = study.item(form_oid, analyte)
    order = _visit_order(study)
    best: tuple[tuple, BaselineSample] | None = None
    for visit_oid, visit_key, oid in data.form_keys(form_oid):
        row = data.entries[(visit_oid, visit_key, oid)].rows.get((group.oid, 1))
        if row is None or row.values.get(analyte) is None:
            continue
        sampled = row.values.get(baseline.dated_by)
        if not isinstance(sampled, date):
            continue
        if sampled > administered or (sampled == administered and not baseline.same_day):
            continue
        rank = (sampled, order.get(visit_oid, -1), visit_key)
        if best is None or rank > best[0]:
            best = (rank, BaselineSample((visit_oid, visit_key), sampled, row))
    return best[1] if best else None


@functools.lru_cache(maxsize=256)
def baseline_fixed(study: LoadedStudy, form_oid: str, analyte: str) -> bool:
    """Whether the baseline sample of ``analyte`` depends on no derived item (the analyte,
    the sample's date, the event's dating items): then no derivation can move it."""
    baseline = study.forms[form_oid].baseline
    if baseline is None:
        return True
    reads = [(form_oid, analyte), (form_oid, baseline.dated_by)]
    for source in baseline.before:
        if not source.startswith("visit:"):
            _, source_form, source_item = source.split(".")
            reads.append((source_form, source_item))
    return not any(
        study.has_item(form, item) and study.item(form, item)[1].derived for form, item in reads
    )


def latest_value(
    study: LoadedStudy, data: SubjectData, visit: VisitKey | None, form_oid: str, item: str
) -> Any:
    """``form_oid``.``item`` at ``visit`` when given there, else at the latest visit before
    it where it was given: dated on or before ``visit``'s date, or (when either is not
    dated yet) earlier in the schedule; a dated visit before an undated one."""
    if visit is None:
        return None
    group, _ = study.item(form_oid, item)
    here = data.entry(*visit, form_oid)
    row = here.rows.get((group.oid, 1)) if here else None
    if row is not None and row.values.get(item) is not None:
        return row.values[item]
    order = _visit_order(study)
    today, position = _visit_day(data, visit), order.get(visit[0], -1)
    best: tuple[tuple, Any] | None = None
    for visit_oid, visit_key, oid in data.form_keys(form_oid):
        if (visit_oid, visit_key) == visit:
            continue
        row = data.entries[(visit_oid, visit_key, oid)].rows.get((group.oid, 1))
        value = row.values.get(item) if row else None
        when, earlier = _visit_day(data, (visit_oid, visit_key)), order.get(visit_oid, -1)
        if value is None:
            continue
        if when is not None and today is not None:
            if when > today:
                continue
        elif earlier >= position:
            continue
        rank = (when or date.min, earlier, visit_key)
        if best is None or rank > best[0]:
            best = (rank, value)
    return best[1] if best else None


def _visit_day(data: SubjectData, visit: VisitKey) -> date | None:
    record = data.visits.get(visit)
    return record.visit_date if record else None
