"""Visits: the schedule from D0 and T0, windows and deviations, sub-groups, unscheduled visits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ecrf.auth.models import User
from ecrf.crf import services, visits
from ecrf.db import utcnow
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.models import Subject, SubjectVisit
from ecrf.study.schedule import build_schedule
from tests.capture import count, events, last_seq, race

D = date.fromisoformat


def schedule(study, subject) -> dict[tuple[str, int], object]:
    db.session.expire_all()
    slots = build_schedule(study, SubjectData.load(study, subject))
    return {(s.definition.oid, s.repeat_key): s for s in slots}


def windows(study, subject) -> dict[str, tuple]:
    return {
        oid: (slot.due, slot.earliest, slot.latest)
        for (oid, _), slot in schedule(study, subject).items()
    }


def enrol(save, subject, **items) -> None:
    save(subject, "SCR", "ENR", {("ENR", 1): items})


def set_date(study, subject, visit_oid, day, actor=None, **options):
    result = visits.set_visit_date(study, subject, visit_oid, day, actor=actor, **options)
    db.session.commit()
    return result


def visit_events(subject, visit_oid, repeat=1, action=None):
    return events(f"{subject.identifier}/{visit_oid}/{repeat}", action, entity="visit")


def test_nothing_is_due_until_day_0_is_known(study, subject):
    slots = schedule(study, subject)
    assert list(slots) == [("SCR", 1), ("BASE", 1), ("TX", 1), ("FU", 1), ("LOGS", 1)]
    assert all(s.due is None and s.record is None for s in slots.values())
    assert {oid: s.applicable for (oid, _), s in slots.items()} == {
        "SCR": True,
        "BASE": True,
        "TX": False,
        "FU": False,
        "LOGS": True,
    }


def test_visits_are_due_from_the_planned_day_0(study, subject, save):
    enrol(save, subject, D0PLAN="2024-06-01")
    assert windows(study, subject) == {
        "SCR": (D("2024-05-18"), D("2024-05-11"), D("2024-05-25")),
        "BASE": (D("2024-06-01"), D("2024-06-01"), D("2024-06-01")),
        "TX": (D("2024-06-29"), D("2024-06-15"), D("2024-07-27")),
        # T0 is planned at D0 + 28 until the treatment visit happens.
        "FU": (D("2024-07-13"), D("2024-07-10"), D("2024-07-16")),
        "LOGS": (None, None, None),
    }


def test_the_actual_baseline_date_takes_over_from_the_plan(study, subject, save):
    enrol(save, subject, D0PLAN="2024-06-01")
    result = set_date(study, subject, "BASE", D("2024-06-03"))
    assert result.out_of_window is False and result.visit.visit_date == D("2024-06-03")
    got = windows(study, subject)
    assert got["SCR"] == (D("2024-05-20"), D("2024-05-13"), D("2024-05-27"))
    assert got["BASE"] == (D("2024-06-03"),) * 3
    assert got["TX"][0] == D("2024-07-01") and got["FU"][0] == D("2024-07-15")
    assert visit_events(subject, "BASE", action="protocol_deviation") == []

    # Moving day 0 again moves the schedule with it: still no deviation of its own.
    set_date(study, subject, "BASE", D("2024-06-04"), reason="Date mistyped")
    assert windows(study, subject)["SCR"][0] == D("2024-05-21")
    assert visit_events(subject, "BASE", action="protocol_deviation") == []


def test_t0_is_the_treatment_visit_date_once_known(study, subject, save):
    enrol(save, subject, D0PLAN="2024-06-01", THERAPY="Y")
    set_date(study, subject, "BASE", D("2024-06-01"))
    set_date(study, subject, "TX", D("2024-07-05"))
    assert [e.new for e in visit_events(subject, "TX")] == ["2024-07-05"]
    got = windows(study, subject)
    assert got["TX"] == (D("2024-06-29"), D("2024-06-15"), D("2024-07-27"))
    assert got["FU"] == (D("2024-07-19"), D("2024-07-16"), D("2024-07-22"))


@pytest.mark.parametrize("therapy", [None, "N"])
def test_therapy_visits_do_not_apply_outside_the_sub_group(study, subject, save, therapy):
    enrol(save, subject, D0PLAN="2024-06-01", **({"THERAPY": therapy} if therapy else {}))
    slots = schedule(study, subject)
    assert (slots[("TX", 1)].applicable, slots[("FU", 1)].applicable) == (False, False)
    before = last_seq()
    with pytest.raises(RuleViolation, match="Treatment does not apply"):
        visits.set_visit_date(study, subject, "TX", D("2024-06-29"), actor=None)
    db.session.rollback()
    with pytest.raises(RuleViolation, match="Follow-up does not apply"):
        save(subject, "FU", "LB", {("LB", 1): {"HGB": "13"}})
    db.session.rollback()
    assert last_seq() == before and count(SubjectVisit) == 1  # SCR only


def test_therapy_visits_apply_in_the_sub_group(study, subject, save):
    enrol(save, subject, D0PLAN="2024-06-01", THERAPY="Y")
    slots = schedule(study, subject)
    assert (slots[("TX", 1)].applicable, slots[("FU", 1)].applicable) == (True, True)
    set_date(study, subject, "TX", D("2024-06-29"))
    entry = save(subject, "TX", "LB", {("LB", 1): {"HGB": "13"}}).entry
    assert entry.visit.visit_oid == "TX"
    assert [e.new for e in visit_events(subject, "TX")] == ["2024-06-29"]
    assert [e.field for e in events(entry.id, "item_entered")] == ["LB[1].HGB"]


def test_a_date_outside_the_window_needs_a_deviation_reason(study, subject, save, staff):
    enrol(save, subject, D0PLAN="2024-06-01")
    before = last_seq()
    with pytest.raises(RuleViolation) as caught:
        visits.set_visit_date(study, subject, "SCR", D("2024-05-01"), actor=staff)
    db.session.rollback()
    assert caught.value.field == "deviation_reason"
    assert "2024-05-01 is outside the window of Screening (2024-05-11 to 2024-05-25)" in (
        caught.value.message
    )
    assert last_seq() == before
    assert schedule(study, subject)[("SCR", 1)].visit_date is None

    result = set_date(
        study, subject, "SCR", D("2024-05-01"), actor=staff, deviation_reason=" Patient away "
    )
    assert result.out_of_window is True
    assert result.window == (D("2024-05-18"), D("2024-05-11"), D("2024-05-25"))
    visit = result.visit
    assert (visit.visit_date, visit.out_of_window, visit.deviation_reason) == (
        D("2024-05-01"),
        True,
        "Patient away",
    )
    assert schedule(study, subject)[("SCR", 1)].out_of_window is True
    assert [
        (e.action, e.field, e.old, e.new, e.reason, e.actor_id)
        for e in visit_events(subject, "SCR")
    ] == [
        ("visit_date_set", "visit_date", None, "2024-05-01", None, staff.id),
        (
            "protocol_deviation",
            "out_of_window",
            None,
            "2024-05-01 outside 2024-05-11..2024-05-25",
            "Patient away",
            staff.id,
        ),
    ]
    assert {e.definition_version for e in visit_events(subject, "SCR")} == {"1.0"}


def test_a_date_inside_the_window_is_no_deviation(study, subject, save):
    enrol(save, subject, D0PLAN="2024-06-01")
    for day in ("2024-05-11", "2024-05-25"):
        visits.set_visit_date(study, subject, "SCR", D(day), actor=None, reason="moved")
        db.session.commit()
    assert not schedule(study, subject)[("SCR", 1)].out_of_window
    assert [e.new for e in visit_events(subject, "SCR")] == ["2024-05-11", "2024-05-25"]


def test_a_date_moved_back_into_its_window_clears_the_deviation(study, subject, save):
    enrol(save, subject, D0PLAN="2024-06-01")
    set_date(study, subject, "SCR", D("2024-05-01"), deviation_reason="Patient away")
    result = set_date(study, subject, "SCR", D("2024-05-20"), reason="Wrong date typed")
    assert (result.out_of_window, result.visit.deviation_reason) == (False, None)
    assert [(e.action, e.new, e.reason) for e in visit_events(subject, "SCR")][-1] == (
        "visit_date_set",
        "2024-05-20",
        "Wrong date typed",
    )
    assert len(visit_events(subject, "SCR", action="protocol_deviation")) == 1


def test_a_visit_without_a_known_day_0_has_no_window_to_check(study, subject):
    result = set_date(study, subject, "SCR", D("2020-01-01"))
    assert (result.out_of_window, result.window) == (False, None)
    assert [e.action for e in visit_events(subject, "SCR")] == ["visit_date_set"]


def test_a_visit_date_in_the_future_is_refused(study, subject):
    tomorrow = utcnow().date() + timedelta(days=1)
    with pytest.raises(RuleViolation) as caught:
        visits.set_visit_date(study, subject, "SCR", tomorrow, actor=None)
    db.session.rollback()
    assert caught.value.field == "visit_date"
    assert count(SubjectVisit) == 0
    assert visit_events(subject, "SCR") == []
    set_date(study, subject, "SCR", utcnow().date())  # today is fine
    assert [e.new for e in visit_events(subject, "SCR")] == [utcnow().date().isoformat()]


def test_changing_a_visit_date_needs_a_reason(study, subject, staff):
    set_date(study, subject, "SCR", D("2024-05-20"), actor=staff)
    before = last_seq()
    with pytest.raises(RuleViolation) as caught:
        visits.set_visit_date(study, subject, "SCR", D("2024-05-21"), actor=staff, reason=" ")
    db.session.rollback()
    assert caught.value.field == "reason" and last_seq() == before
    set_date(study, subject, "SCR", D("2024-05-21"), actor=staff, reason=" Typo ")
    set_date(study, subject, "SCR", D("2024-05-21"), actor=staff)  # the same date: no change
    assert [(e.old, e.new, e.reason) for e in visit_events(subject, "SCR")] == [
        (None, "2024-05-20", None),
        ("2024-05-20", "2024-05-21", "Typo"),
    ]


def test_staff_of_another_site_may_not_date_a_visit(study, subject, other_staff):
    with pytest.raises(PermissionDenied):
        visits.set_visit_date(study, subject, "SCR", D("2024-05-20"), actor=other_staff)
    db.session.rollback()
    assert count(SubjectVisit) == 0


def test_a_log_is_not_a_visit_with_a_date(study, subject):
    with pytest.raises(NotFound):
        visits.set_visit_date(study, subject, "LOGS", D("2024-05-20"), actor=None)


def test_an_overdue_visit_is_one_past_its_window_without_a_date(study, subject, save):
    enrol(save, subject, D0PLAN="2024-06-01")
    slot = schedule(study, subject)[("SCR", 1)]
    assert slot.overdue(D("2024-05-26")) and not slot.overdue(D("2024-05-25"))
    set_date(study, subject, "SCR", D("2024-05-20"))
    assert not schedule(study, subject)[("SCR", 1)].overdue(D("2024-06-30"))


def test_unscheduled_visits_are_numbered_1_2_and_hold_their_forms(study, subject, save, staff):
    first = visits.add_unscheduled_visit(study, subject, "UNS", D("2024-07-01"), actor=staff)
    second = visits.add_unscheduled_visit(study, subject, "UNS", D("2024-07-09"), actor=staff)
    db.session.commit()
    assert [(v.repeat_key, v.visit_date) for v in (first, second)] == [
        (1, D("2024-07-01")),
        (2, D("2024-07-09")),
    ]
    slots = schedule(study, subject)
    assert [k for (oid, k) in slots if oid == "UNS"] == [1, 2]
    assert [e.new for e in visit_events(subject, "UNS", 2)] == ["2024-07-09"]

    entry = save(subject, "UNS", "LB", {("LB", 1): {"HGB": "13"}}, visit_repeat=2).entry
    assert (entry.visit.visit_oid, entry.visit.repeat_key) == ("UNS", 2)
    with pytest.raises(NotFound):
        save(subject, "UNS", "LB", {("LB", 1): {"HGB": "13"}}, visit_repeat=3)
    db.session.rollback()
    with pytest.raises(RuleViolation, match="Only unscheduled visits"):
        visits.add_unscheduled_visit(study, subject, "SCR", D("2024-07-01"), actor=staff)


def test_unscheduled_visits_added_at_once_get_distinct_numbers(
    app, study, subject, staff, slow_reads
):
    subject_id, staff_id = subject.id, staff.id

    def work(n: int) -> int:
        return visits.add_unscheduled_visit(
            study,
            db.session.get(Subject, subject_id),
            "UNS",
            D("2024-07-01") + timedelta(days=n),
            actor=db.session.get(User, staff_id),
        ).repeat_key

    assert sorted(race(app, 2, work), key=str) == [1, 2]
    assert len(visit_events(subject, "UNS", 1)) == len(visit_events(subject, "UNS", 2)) == 1


def test_a_visit_dated_by_another_save_path_keeps_one_record(study, subject, save):
    save(subject, "SCR", "DM", {("DM", 1): {"SEX": "M"}})
    set_date(study, subject, "SCR", D("2024-05-20"))
    assert count(SubjectVisit) == 1
    assert [e.new for e in visit_events(subject, "SCR")] == ["2024-05-20"]
    assert services.find_entry(schedule(study, subject)[("SCR", 1)].record, "DM") is not None
