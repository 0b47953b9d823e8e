"""Dates of the real trial against the consent and the end of study, where the protocol says
so: the data of the study lie from the informed consent to the end of study; histories,
prior treatments and screening exams may predate the consent; a planned D0 may lie ahead.
Visit dates obey the same bounds, and a date the schedule cannot be computed from is
refused at the visit-date field."""

from __future__ import annotations

from datetime import date

import pytest

from ecrf.crf import visits
from ecrf.errors import NotFound, RuleViolation
from ecrf.extensions import db
from ecrf.records import dates
from ecrf.records.data import SubjectData
from ecrf.records.models import SubjectVisit
from ecrf.study.schedule import build_schedule
from forms.values import PartialDate
from tests.capture import refused, rows, snapshot, value, where

D = date.fromisoformat
CONSENT = D("2025-01-06")
TODAY = D("2025-09-01")


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def consented(subject, save):
    save(
        subject,
        "SCR",
        "IC",
        {("IC", 1): {"ICDAT": CONSENT.isoformat(), "THERAPY": "Y"}},
        today=TODAY,
    )
    return subject


def ae(start: str, end: str | None = None) -> dict:
    row = {"AETERM": "Nausea", "AESTDAT": start}
    if end:
        row |= {"AEONGO": "N", "AEENDAT": end}
    return {("AE", 1): row}


def test_an_adverse_event_starting_before_the_consent_is_refused_at_its_start(consented, save):
    before = snapshot()
    failure = refused(save, consented, "LOGS", "AE", ae("2025-01-05"), today=TODAY)
    assert where(failure.issues) == [("AE", 1, "AESTDAT", "error")]
    assert failure.issues[0].message == "This date is before the informed consent (2025-01-06)."
    assert snapshot() == before


def test_a_partial_start_that_may_be_after_the_consent_is_accepted(study, consented, save):
    save(consented, "LOGS", "AE", ae("2025-01"), today=TODAY)
    assert rows(study, consented, "LOGS", "AE", "AE")[0]["AESTDAT"] == PartialDate(2025, 1)
    failure = refused(
        save, consented, "LOGS", "AE", {("AE", 2): {"AESTDAT": "2024-12"}}, today=TODAY
    )
    assert where(failure.issues) == [("AE", 2, "AESTDAT", "error")]


def test_histories_and_screening_exams_may_predate_the_consent(study, consented, save):
    save(
        consented,
        "SCR",
        "MH",
        {("MHYN", 1): {"MHYN": "Y"}, ("MH", 1): {"MHTERM": "Appendectomy", "MHSTDAT": "1975"}},
        today=TODAY,
    )
    save(consented, "SCR", "LVEF", {("LVEF", 1): {"LVEFDAT": "2024-12-20"}}, today=TODAY)
    assert value(study, consented, "SCR.LVEF.LVEFDAT") == D("2024-12-20")


def test_a_planned_day_0_may_lie_ahead_but_not_years_ahead(study, consented, save):
    save(consented, "SCR", "IC", {("IC", 1): {"D0PLAN": "2026-02-01"}}, today=TODAY)
    assert value(study, consented, "SCR.IC.D0PLAN") == D("2026-02-01")
    failure = refused(
        save, consented, "SCR", "IC", {("IC", 1): {"D0PLAN": "2028-01-01"}}, today=TODAY
    )
    assert where(failure.issues) == [("IC", 1, "D0PLAN", "error")]
    assert "too far in the future: enter a date up to 2027-12-31" in failure.issues[0].message


def test_nothing_of_the_study_is_dated_after_the_end_of_study(study, consented, save):
    save(
        consented,
        "LOGS",
        "EOS",
        {("EOS", 1): {"EOSDAT": "2025-06-30", "LASTCONT": "2025-06-30"}},
        today=TODAY,
    )
    failure = refused(
        save,
        consented,
        "LOGS",
        "DV",
        {("DV", 1): {"DVSTDAT": "2025-07-01", "DVTERM": "Late"}},
        today=TODAY,
    )
    assert [(i.item_oid, i.message) for i in failure.issues] == [
        ("DVSTDAT", "This date is after the end of study (2025-06-30).")
    ]
    # An adverse event that began during the study may end after it.
    save(consented, "LOGS", "AE", ae("2025-06-01", "2025-07-15"), today=TODAY)


def test_the_end_of_study_itself_cannot_precede_the_consent(consented, save):
    failure = refused(
        save, consented, "LOGS", "EOS", {("EOS", 1): {"EOSDAT": "2025-01-01"}}, today=TODAY
    )
    assert [i.item_oid for i in failure.issues] == ["EOSDAT"]


def test_a_visit_of_the_study_cannot_be_dated_before_the_consent(study, consented):
    before = snapshot()
    with pytest.raises(RuleViolation) as caught:
        visits.set_visit_date(study, consented, "PETIV", D("2025-01-05"), actor=None, today=TODAY)
    assert caught.value.field == "visit_date"
    assert "before the informed consent (2025-01-06)" in caught.value.message
    db.session.rollback()
    assert snapshot() == before
    # The screening visit may (its exams are accepted from before the consent).
    visits.set_visit_date(study, consented, "SCR", D("2025-01-05"), actor=None, today=TODAY)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (D("1899-12-31"), dates.TOO_EARLY),
        (D("0001-01-02"), dates.TOO_EARLY),
        (D("2025-09-02"), visits.VISIT_DATE_FUTURE),
        (D("9999-12-20"), visits.VISIT_DATE_FUTURE),
    ],
)
def test_implausible_visit_dates_are_refused_at_the_visit_date(study, subject, day, message):
    before = snapshot()
    with pytest.raises(RuleViolation) as caught:
        visits.set_visit_date(study, subject, "SCR", day, actor=None, today=TODAY)
    assert (caught.value.field, caught.value.message) == ("visit_date", message)
    db.session.rollback()
    assert snapshot() == before


def test_a_day_0_that_puts_the_schedule_off_the_calendar_is_refused(study, subject, save):
    # Only reachable with a clock at the end of the calendar: the window of M6 (T0 + 194)
    # would lie after 9999-12-31.
    save(
        subject,
        "SCR",
        "IC",
        {("IC", 1): {"ICDAT": "9999-12-01", "THERAPY": "Y"}},
        today=D("9999-12-31"),
    )
    with pytest.raises(RuleViolation) as caught:
        visits.set_visit_date(
            study, subject, "PETIAH", D("9999-12-20"), actor=None, today=D("9999-12-31")
        )
    assert caught.value.field == "visit_date"
    assert caught.value.message == visits.VISIT_DATE_OFF_CALENDAR


def test_a_schedule_stored_off_the_calendar_still_builds(study, subject, save):
    # A date stored before dates were bounded must not break the subject's pages.
    save(subject, "SCR", "IC", {("IC", 1): {"THERAPY": "Y"}}, today=TODAY)
    db.session.add(
        SubjectVisit(
            subject_id=subject.id, visit_oid="PETIAH", repeat_key=1, visit_date=D("9999-12-20")
        )
    )
    db.session.commit()
    slots = {s.definition.oid: s for s in build_schedule(study, SubjectData.load(study, subject))}
    assert slots["PETIAH"].due == D("9999-12-20")
    assert slots["M6"].due is None  # beyond 9999-12-31: shown as not computable


def test_a_scheduled_visit_has_one_occurrence(study, subject):
    with pytest.raises(NotFound):
        visits.set_visit_date(study, subject, "SCR", D("2025-01-05"), actor=None, repeat_key=2)
