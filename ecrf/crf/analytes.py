"""A laboratory group laid out as a table, one row per analyte (``forms.language.AnalyteRow``):
the value with its unit, the limits of normal, the CTCAE grade with its baseline, and a
flag of the saved value against the limits (or its usual range when no limit is given)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ecrf.records import fields
from ecrf.records.data import EntryData, RowData, SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.lookups import administration_date, baseline_sample
from forms.language import AnalyteRow, Form, Item, ItemGroup

#: The flag of a value, by its letter: (letter, words read out and shown on hover).
HIGH = ("H", "Above the upper limit of normal")
LOW = ("L", "Below the lower limit of normal")
UNUSUAL = ("!", "Outside the usual range: please check the value and its unit")
#: The baseline beside a grade.
BASELINE_SHOWN = "baseline: {value} on {day} ({visit})"
BASELINE_HERE = "this sample is the baseline"
BASELINE_NONE = "no baseline sample before the first study radiopharmaceutical administration"
BASELINE_WAITING = (
    "baseline: the last sample before the first study radiopharmaceutical administration,"
    " not dated yet"
)


@dataclass(frozen=True)
class AnalyteView:
    """One analyte row as the page shows it."""

    label: str
    value: Item
    low: Item | None
    high: Item | None
    grade: Item | None
    extra: tuple[Item, ...]
    #: (letter, words) of the saved value, or None when within the limits or not given.
    flag: tuple[str, str] | None
    #: The baseline in words, beside the grade (graded rows of a form with a baseline).
    baseline: str | None
    required: bool
    #: The saved grade (None when not computed): grade 3 and above stand out.
    grade_value: int | None = None


@dataclass(frozen=True)
class Segment:
    """Consecutive items laid out as usual (``items``), or analyte rows as one table."""

    items: tuple[Item, ...] = ()
    rows: tuple[AnalyteView, ...] = ()


def layout(
    study: LoadedStudy,
    data: SubjectData,
    form: Form,
    group: ItemGroup,
    entry: EntryData | None,
    visit: tuple[str, int],
) -> list[Segment]:
    """The group's items in their order: each analyte row where its value item stands,
    consecutive rows in one table, the other items between them as usual."""
    row = entry.rows.get((group.oid, 1)) if entry else None
    items = {item.oid: item for item in group.items}
    segments: list[Segment] = []
    placed: set[str] = set()
    for item in group.items:
        analyte = group.analyte_of(item.oid)
        if analyte is None:
            if segments and segments[-1].items:
                segments[-1] = Segment(items=(*segments[-1].items, item))
            else:
                segments.append(Segment(items=(item,)))
            continue
        if analyte.value in placed:
            continue
        placed.add(analyte.value)
        view = _view(study, data, form, analyte, items, row, visit)
        if segments and segments[-1].rows:
            segments[-1] = Segment(rows=(*segments[-1].rows, view))
        else:
            segments.append(Segment(rows=(view,)))
    return segments


def _view(study, data, form, analyte: AnalyteRow, items, row, visit) -> AnalyteView:
    def get(oid: str | None) -> Item | None:
        return items[oid] if oid else None

    value = items[analyte.value]
    return AnalyteView(
        label=value.label,
        value=value,
        low=get(analyte.low),
        high=get(analyte.high),
        grade=get(analyte.grade),
        extra=tuple(items[oid] for oid in analyte.extra),
        flag=flag(value, row, analyte),
        baseline=(
            _baseline_words(study, data, form, value, visit)
            if analyte.grade and form.baseline
            else None
        ),
        required=value.required,
        grade_value=row.values.get(analyte.grade) if row is not None and analyte.grade else None,
    )


def flag(value_item: Item, row: RowData | None, analyte: AnalyteRow) -> tuple[str, str] | None:
    """H or L against the limits of normal saved with the value (both in its standard
    unit); without the limit on that side, "!" when the value lies outside the usual
    range of the unit it was entered in."""
    if row is None:
        return None
    value = row.values.get(value_item.oid)
    if not isinstance(value, (int, Decimal)):
        return None
    low = row.values.get(analyte.low) if analyte.low else None
    high = row.values.get(analyte.high) if analyte.high else None
    if high is not None and value > high:
        return HIGH
    if low is not None and value < low:
        return LOW
    if low is not None and high is not None:
        return None
    entered, symbol = row.entered.get(value_item.oid, (value, None))
    unit = value_item.unit(symbol) if value_item.multi_unit else None
    usual = unit.soft if unit is not None else value_item.soft
    if usual is None or usual.contains(entered):
        return None
    # Only the side with no limit of normal is judged by the usual range.
    above = usual.high is not None and entered > usual.high
    if (above and high is None) or (not above and low is None):
        return UNUSUAL
    return None


def _baseline_words(
    study: LoadedStudy, data: SubjectData, form: Form, value: Item, visit: tuple[str, int]
) -> str:
    if administration_date(data, form.baseline) is None:
        return BASELINE_WAITING
    sample = baseline_sample(study, data, form.oid, value.oid)
    if sample is None:
        return BASELINE_NONE
    if sample.visit == visit:
        return BASELINE_HERE
    shown = sample.row.entered.get(value.oid)
    text = (
        fields.display(value, shown[0], unit=shown[1])
        if shown
        else fields.display(value, sample.row.values.get(value.oid))
    )
    return BASELINE_SHOWN.format(
        value=text, day=_day(sample.sampled), visit=_visit_name(study, sample.visit)
    )


def _day(day: date) -> str:
    return day.isoformat()


def _visit_name(study: LoadedStudy, visit: tuple[str, int]) -> str:
    definition = study.visits[visit[0]]
    name = definition.name
    return f"{name} {visit[1]}" if definition.kind.value == "unscheduled" else name
