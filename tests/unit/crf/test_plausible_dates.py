"""Dates are plausible: from 1900, never years ahead, clinical dates never after the day of
the save; numbers stay what a column holds. Checked by the write path, at the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ecrf.records import dates, fields
from ecrf.records.loader import load_study
from forms.language import Timing
from forms.values import PartialDate
from tests.capture import entry_of, refused, rows, snapshot, value, where
from tests.definitions.mini import STUDY

MINI = load_study(STUDY)
TODAY = date(2026, 3, 15)
D = date.fromisoformat


def parse(form_oid: str, item_oid: str, raw: str, today: date = TODAY):
    item = MINI.item(form_oid, item_oid)[1]
    return fields.parse(item, raw, MINI.codelist_for(item), today=today)


@pytest.mark.parametrize(
    ("item", "raw", "expected"),
    [
        ("ENRDAT", "1900-01-01", date(1900, 1, 1)),
        ("ENRDAT", "2028-12-31", date(2028, 12, 31)),  # two years ahead: a plan may be
        ("BRTHYM", "1900", PartialDate(1900)),
        ("BRTHYM", "2028-12", PartialDate(2028, 12)),
    ],
)
def test_the_earliest_and_latest_plausible_dates_are_accepted(item, raw, expected):
    form = "ENR" if item == "ENRDAT" else "DM"
    assert parse(form, item, raw) == expected


@pytest.mark.parametrize(
    ("item", "raw", "message"),
    [
        ("ENRDAT", "1899-12-31", "Enter a date from 1900 on."),
        ("ENRDAT", "0001-01-01", "Enter a date from 1900 on."),
        ("ENRDAT", "2029-01-01", "too far in the future: enter a date up to 2028-12-31."),
        ("ENRDAT", "9999-12-31", "too far in the future"),
        ("BRTHYM", "1899", "Enter a date from 1900 on."),
        ("BRTHYM", "1899-12-31", "Enter a date from 1900 on."),
        ("BRTHYM", "2029", "too far in the future"),
    ],
)
def test_implausible_years_are_refused_whatever_the_item(item, raw, message):
    form = "ENR" if item == "ENRDAT" else "DM"
    with pytest.raises(fields.FieldError, match=message):
        parse(form, item, raw)


def test_the_latest_plausible_year_follows_the_day_of_the_save():
    assert parse("ENR", "ENRDAT", "2031-06-01", today=D("2029-01-01")) == D("2031-06-01")


@pytest.mark.parametrize(
    ("value", "timing", "consent", "end", "problem"),
    [
        (D("2026-03-15"), Timing.PAST, None, None, None),
        (D("2026-03-16"), Timing.PAST, None, None, "after today (2026-03-15)"),
        (PartialDate(2026, 3), Timing.PAST, None, None, None),  # may be before today
        (PartialDate(2026), Timing.PAST, None, None, None),
        (PartialDate(2026, 4), Timing.PAST, None, None, "after today"),
        (D("2027-01-01"), Timing.PLANNED, None, None, None),
        (D("2020-01-01"), Timing.PAST, D("2025-01-01"), None, None),  # history: before consent
        (D("2024-12-31"), Timing.STUDY, D("2025-01-01"), None, "before the informed consent"),
        (D("2025-01-01"), Timing.STUDY, D("2025-01-01"), None, None),
        (PartialDate(2024), Timing.STUDY, D("2025-01-01"), None, "before the informed consent"),
        (PartialDate(2025), Timing.STUDY, D("2025-06-01"), None, None),  # may be after it
        (PartialDate(2025, 1), Timing.STUDY, D("2025-01-31"), None, None),
        (D("2025-06-02"), Timing.STUDY, None, D("2025-06-01"), "after the end of study"),
        (PartialDate(2025, 6), Timing.STUDY, None, D("2025-06-01"), None),
        (PartialDate(2025, 7), Timing.STUDY, None, D("2025-06-30"), "after the end of study"),
        (D("2026-03-16"), Timing.STUDY, None, None, "after today"),
    ],
)
def test_when_a_date_may_lie(value, timing, consent, end, problem):
    found = dates.timing_problem(value, timing, today=TODAY, consent=consent, end=end)
    assert (found is None) if problem is None else (problem in found)


def test_a_date_after_the_day_of_the_save_is_refused_at_its_field_and_nothing_written(
    study, subject, save
):
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2026-03-01"}}, today=TODAY)
    before = snapshot()
    failure = refused(
        save, subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2026-03-16"}}, today=TODAY
    )
    assert where(failure.issues) == [("ENR", 1, "ENRDAT", "error")]
    assert "after today (2026-03-15)" in failure.issues[0].message
    assert snapshot() == before
    assert value(study, subject, "SCR.ENR.ENRDAT") == D("2026-03-01")


def test_a_partial_date_of_the_current_month_is_accepted(study, subject, save):
    save(subject, "SCR", "DM", {("DM", 1): {"BRTHYM": "2026-03"}}, today=TODAY)
    assert value(study, subject, "SCR.DM.BRTHYM") == PartialDate(2026, 3)


def test_a_year_before_1900_is_refused_at_its_field_and_leaves_no_entry(study, subject, save):
    before = snapshot()
    failure = refused(save, subject, "SCR", "DM", {("DM", 1): {"BRTHYM": "1899-12"}})
    assert where(failure.issues) == [("DM", 1, "BRTHYM", "error")]
    assert failure.issues[0].message == dates.TOO_EARLY
    assert snapshot() == before
    assert entry_of(subject, "SCR", "DM") is None


def test_a_value_saved_before_is_not_refused_when_it_does_not_change(study, subject, save):
    # Saved on the 15th; on a later day the same value is still accepted, unchanged, with
    # the form's other entries (only what a save changes is checked).
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2026-03-15"}}, today=TODAY)
    result = save(
        subject,
        "SCR",
        "ENR",
        {("ENR", 1): {"ENRDAT": "2026-03-15"}},
        today=D("2026-03-14"),
    )
    assert result.changes == 0


def test_negative_zero_is_stored_as_zero(study, subject, save):
    save(subject, "BASE", "LES", {("LESION", 1): {"SUVMAX": "-0.00"}})
    stored = rows(study, subject, "BASE", "LES", "LESION")[0]["SUVMAX"]
    assert stored == Decimal(0) and str(stored) == "0.00" and not stored.is_signed()
