"""When D0 or T0 moves (the planned D0 corrected, the PET-IAH or the 177Lu administration
dated), the visits already dated are measured against their new windows: a visit the move
puts outside is flagged a protocol deviation, one it brings back is cleared; each change
audited, through the one write path."""

from __future__ import annotations

from datetime import date

import pytest

from ecrf.crf import services, visits
from ecrf.extensions import db
from ecrf.records.models import SubjectStatus, SubjectVisit
from ecrf.study import subjects
from tests.capture import entry_of, events
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)
D0 = date(2025, 2, 3)  # planned at screening: consent + 28 days
PETIV = date(2025, 1, 13)  # D-21: the first day of the PET-IV window


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def dated(study, subject, staff, investigator):
    """BDX-001 included, screening on consent + 2 days, PET-IV on D-21 of the planned D0."""
    save_screening(study, subject, staff, CONSENT)
    subjects.change_status(
        study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
    )
    visits.set_visit_date(study, subject, "SCR", date(2025, 1, 8), actor=staff)
    result = visits.set_visit_date(study, subject, "PETIV", PETIV, actor=staff)
    db.session.commit()
    assert not result.out_of_window
    return subject


def plan_d0(study, subject, actor, day: date) -> None:
    services.save_form(
        study,
        subject,
        "SCR",
        "IC",
        {("IC", 1): {"D0PLAN": day.isoformat()}},
        actor=actor,
        expected_version=entry_of(subject, "SCR", "IC").version,
        reason="IAH procedure rescheduled",
    )
    db.session.commit()
    db.session.expire_all()


def petiv(subject) -> SubjectVisit:
    return next(v for v in subject.visits if v.visit_oid == "PETIV")


def deviation_events(subject):
    entity = f"{subject.identifier}/PETIV/1"
    return [
        (e.action, e.new, e.reason)
        for e in events(entity, entity="visit")
        if e.action.startswith("protocol_deviation")
    ]


def test_the_planned_d0_moved_one_day_later_puts_the_dated_pet_iv_out_of_its_window_and_back(
    study, dated, staff
):
    plan_d0(study, dated, staff, date(2025, 2, 4))  # the PET-IV window now starts 01-14

    assert petiv(dated).out_of_window and petiv(dated).deviation_reason is None
    assert deviation_events(dated) == [
        (
            "protocol_deviation",
            "2025-01-13 outside 2025-01-14..2025-02-03",
            visits.WINDOW_MOVED,
        )
    ]

    plan_d0(study, dated, staff, D0)  # back: 01-13 is D-21 again, inside

    assert not petiv(dated).out_of_window
    assert deviation_events(dated)[1] == (
        "protocol_deviation_cleared",
        "2025-01-13 inside 2025-01-13..2025-02-02",
        visits.WINDOW_MOVED,
    )


def test_dating_the_pet_iah_moves_d0_and_flags_the_pet_iv_then_its_reason_is_given(
    study, dated, staff
):
    visits.set_visit_date(study, dated, "PETIAH", date(2025, 2, 4), actor=staff)
    db.session.commit()
    db.session.expire_all()

    assert petiv(dated).out_of_window
    # The site gives the deviation's reason on the visit's date form (same date).
    visits.set_visit_date(
        study, dated, "PETIV", PETIV, actor=staff, deviation_reason="Angiography room booked"
    )
    db.session.commit()
    assert petiv(dated).deviation_reason == "Angiography room booked"
    assert deviation_events(dated)[-1][0] == "protocol_deviation"

    # The PET-IAH date corrected to the planned D0: the PET-IV is in its window again.
    visits.set_visit_date(
        study, dated, "PETIAH", D0, actor=staff, reason="Typing error: the PET was on 02-03"
    )
    db.session.commit()
    db.session.expire_all()
    assert not petiv(dated).out_of_window and petiv(dated).deviation_reason is None
    cleared = deviation_events(dated)[-1]
    assert cleared[0] == "protocol_deviation_cleared"


def test_a_save_that_moves_no_reference_changes_no_flag(study, dated, staff):
    plan_d0(study, dated, staff, date(2025, 2, 2))  # PET-IV window 01-12..02-01: inside

    assert not petiv(dated).out_of_window
    assert deviation_events(dated) == []


def test_t0_moved_by_the_177lu_administration_date_moves_the_safety_visits_windows(
    study, dated, staff
):
    # T0 planned at D0 + 28 = 2025-03-03; W2 done on T0 + 14, inside 03-14..03-20.
    visits.set_visit_date(study, dated, "PETIAH", D0, actor=staff)
    visits.set_visit_date(study, dated, "W2", date(2025, 3, 17), actor=staff)
    db.session.commit()
    w2 = next(v for v in dated.visits if v.visit_oid == "W2")
    assert not w2.out_of_window

    # The administration took place 4 days later than planned: W2 is now T0 + 10.
    visits.set_visit_date(study, dated, "THER", date(2025, 3, 7), actor=staff)
    db.session.commit()
    db.session.expire_all()
    assert w2.out_of_window
    (flagged,) = [
        e
        for e in events(f"{dated.identifier}/W2/1", entity="visit")
        if e.action == "protocol_deviation"
    ]
    assert flagged.new == "2025-03-17 outside 2025-03-18..2025-03-24"

    # Corrected to the planned day: W2 back inside, the flag cleared.
    visits.set_visit_date(
        study, dated, "THER", date(2025, 3, 3), actor=staff, reason="Date of the wrong visit"
    )
    db.session.commit()
    db.session.expire_all()
    assert not w2.out_of_window
