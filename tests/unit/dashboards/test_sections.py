"""Each section of the dashboards on data made through the write path: enrolment against
the target, overdue and out-of-window visits, missing forms, open queries by age, the SAE
clock; scoped to the user's sites; a fixed number of statements whatever the subjects."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.crf.visits import set_visit_date
from ecrf.dashboards.board import compute
from ecrf.dashboards.scope import scope_for, visible_sites
from ecrf.dashboards.sections import Section
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.models import Query
from ecrf.queries.services import QueryTarget
from ecrf.records.models import SubjectStatus
from ecrf.records.sites import get_site
from ecrf.study import subjects
from tests.unit.dashboards.conftest import counting_statements


def board(study, user, *codes, now=None) -> dict[str, Section]:
    sites = [get_site(c) for c in codes] if codes else visible_sites(user)
    return {s.key: s for s in compute(study, scope_for(user, sites, now))}


def column(section: Section, heading: str) -> dict[int, int]:
    return next(c.by_site for c in section.columns if c.heading == heading)


def register(sites, staff, code="BDX"):
    subject = subjects.register_subject(sites[code], actor=staff)
    db.session.commit()
    return subject


def test_enrolment_counts_inclusions_ever_against_the_target(
    study, sites, staff, other_staff, investigator, datamanager, create_user
):
    included, failed, withdrawn, _screening = (register(sites, staff) for _ in range(4))
    for subject, steps in (
        (included, [SubjectStatus.INCLUDED]),
        (failed, [SubjectStatus.SCREEN_FAILURE]),
        (withdrawn, [SubjectStatus.INCLUDED, SubjectStatus.WITHDRAWN]),
    ):
        for status in steps:
            subjects.change_status(study, subject, status, actor=investigator, reason="decided")
    register(sites, other_staff, "TLS")
    db.session.commit()

    section = board(study, datamanager)["enrolment"]
    bdx, tls = sites["BDX"].id, sites["TLS"].id
    assert column(section, "Registered") == {bdx: 4, tls: 1}
    # The withdrawal after inclusion still counts as an inclusion; the screen failure not.
    assert column(section, "Included") == {bdx: 2}
    assert column(section, "Screen failures") == {bdx: 1}
    assert column(section, "Withdrawn") == {bdx: 1}
    assert (section.extra["target"], section.extra["included"], section.extra["percent"]) == (
        4,
        2,
        50,
    )


@pytest.fixture
def late_subject(study, sites, staff, save):
    """D0 planned 30 days ago; screening dated 2 days ago (outside its window), its
    enrolment form in progress and the other two not started; the baseline never done."""
    subject = register(sites, staff)
    today = utcnow().date()
    save(subject, "SCR", "ENR", {("ENR", 1): {"D0PLAN": (today - timedelta(30)).isoformat()}})
    set_visit_date(
        study,
        subject,
        "SCR",
        today - timedelta(2),
        actor=staff,
        deviation_reason="patient came late",
    )
    db.session.commit()
    return subject


def test_a_visit_past_its_window_is_overdue_and_one_done_outside_is_flagged(
    study, late_subject, monitor
):
    section = board(study, monitor)["visits"]
    site = late_subject.site_id
    assert column(section, "Visits overdue") == {site: 1}
    assert column(section, "Out of window") == {site: 1}
    rows = {(r.visit_oid, r.days_late) for r in section.rows}
    # The baseline (D0, window 0..0) is 30 days late; screening was done, out of window.
    assert rows == {("BASE", 30), ("SCR", None)}
    assert all(r.subject == late_subject.identifier for r in section.rows)


def test_no_visit_is_overdue_for_a_subject_who_left(study, late_subject, investigator, monitor):
    subjects.change_status(
        study, late_subject, SubjectStatus.SCREEN_FAILURE, actor=investigator, reason="no"
    )
    db.session.commit()
    section = board(study, monitor)["visits"]
    assert column(section, "Visits overdue") == {}
    assert [r.visit_oid for r in section.rows] == ["SCR"]  # the deviation stays


def test_forms_not_complete_at_a_visit_that_took_place_are_missing(study, late_subject, monitor):
    section = board(study, monitor)["forms"]
    assert column(section, "Forms missing") == {late_subject.site_id: 3}
    assert {(r.visit_oid, r.form_oid, r.state) for r in section.rows} == {
        ("SCR", "ENR", "draft"),
        ("SCR", "DM", "not_started"),
        ("SCR", "LB", "not_started"),
    }


def test_a_complete_form_is_not_missing(study, late_subject, monitor, save):
    save(
        late_subject,
        "SCR",
        "LB",
        {("LB", 1): {"LBDAT": utcnow().date().isoformat(), "HGB": "13"}},
        complete=True,
    )
    section = board(study, monitor)["forms"]
    assert {r.form_oid for r in section.rows} == {"ENR", "DM"}


def test_open_queries_are_counted_by_age_band(study, late_subject, monitor, staff):
    now = utcnow()
    made = []
    for days in (2, 10, 20, 40, 41):
        made.append(
            queries.open_query(study, late_subject, QueryTarget("SCR"), "Check?", actor=monitor)
        )
        made[-1].opened_at = now - timedelta(days=days)
    queries.answer_query(made[1], "Checked.", actor=staff)
    queries.close_query(made[4], "Fine.", actor=monitor)
    db.session.commit()

    section = board(study, monitor, now=now)["queries"]
    site = late_subject.site_id
    assert section.extra["bands"] == ["≤ 7 d", "8–14 d", "15–30 d", "> 30 d"]
    # The closed one is not counted; the answered one is, waiting on the monitor.
    assert section.extra["table"][site] == [1, 1, 1, 1]
    assert (section.extra["waiting"], section.extra["answered"]) == ({site: 3}, {site: 1})
    assert column(section, "Open queries") == {site: 4}
    assert column(section, "Open > 30 d") == {site: 1}


AE = ("LOGS", "AE")


def ae_row(number, serious, term="Nausea"):
    return {"AENUM": str(number), "AETERM": term, "AESTDAT": "2024-05-01", "AESER": serious}


def test_the_sae_clock_lists_serious_events_without_a_report_with_the_hours_left(
    study, sites, staff, save, monitor
):
    subject = register(sites, staff)
    save(
        subject,
        "LOGS",
        "AE",
        {
            ("AE", 1): ae_row(1, "Y", "Pancreatitis"),
            ("AE", 2): ae_row(2, "Y", "Sepsis"),
            ("AE", 3): ae_row(3, "N"),
        },
    )
    save(subject, "LOGS", "SAE", {("SAE", 1): {"SAENUM": "2"}})
    now = utcnow()

    section = board(study, monitor, now=now)["serious_events"]
    [row] = section.rows
    assert (row.subject, row.number, row.term) == (subject.identifier, 1, "Pancreatitis")
    assert row.due == row.since + timedelta(hours=24)
    assert 23 < row.hours_left <= 24 and not row.overdue
    assert column(section, "SAE reports due") == {subject.site_id: 1}
    assert column(section, "SAE reports overdue") == {}

    # 30 hours later, it is overdue by about 6 hours.
    later = board(study, monitor, now=now + timedelta(hours=30))["serious_events"]
    [row] = later.rows
    assert row.overdue and -7 < row.hours_left < -5
    assert column(later, "SAE reports overdue") == {subject.site_id: 1}

    # The report recorded, nothing is due.
    save(subject, "LOGS", "SAE", {("SAE", 1): {"SAENUM": "2"}, ("SAE", 2): {"SAENUM": "1"}})
    assert board(study, monitor)["serious_events"].rows == []


def test_the_clock_starts_when_the_event_became_serious(study, sites, staff, save, monitor):
    subject = register(sites, staff)
    save(subject, *AE, {("AE", 1): ae_row(1, "N")})
    before = utcnow()
    save(subject, *AE, {("AE", 1): ae_row(1, "Y")})
    [row] = board(study, monitor)["serious_events"].rows
    assert row.since >= before


def test_each_event_clock_starts_with_its_own_row_of_its_own_subject(
    study, sites, staff, save, monitor
):
    first, second = register(sites, staff), register(sites, staff)
    save(first, *AE, {("AE", 1): ae_row(1, "Y"), ("AE", 2): ae_row(2, "N")})
    save(second, *AE, {("AE", 1): ae_row(1, "N")})
    middle = utcnow()
    save(second, *AE, {("AE", 1): ae_row(1, "Y")})
    later = utcnow()
    # Another item of a serious row taking the serious value does not restart its clock.
    save(first, *AE, {("AE", 1): ae_row(1, "Y", term="Y"), ("AE", 2): ae_row(2, "Y")})

    rows = board(study, monitor)["serious_events"].rows
    since = {(r.subject, r.number): r.since for r in rows}
    assert set(since) == {(first.identifier, 1), (second.identifier, 1), (first.identifier, 2)}
    assert since[(first.identifier, 1)] < middle <= since[(second.identifier, 1)] < later
    assert later <= since[(first.identifier, 2)]
    assert [(r.subject, r.number) for r in rows] == [
        (first.identifier, 1),
        (second.identifier, 1),
        (first.identifier, 2),
    ]


def test_a_monitor_sees_only_the_sites_monitored_and_the_sponsor_counts_only(
    study, sites, staff, other_staff, save, monitor, sponsor
):
    for who, code in ((staff, "BDX"), (other_staff, "TLS")):
        subject = register(sites, who, code)
        save(subject, *AE, {("AE", 1): ae_row(1, "Y")}, actor=who)

    mine = board(study, monitor)
    assert [s.code for s in visible_sites(monitor)] == ["BDX"]
    assert {r.subject for r in mine["serious_events"].rows} == {"BDX-001"}
    assert set(column(mine["enrolment"], "Registered")) == {sites["BDX"].id}

    everything = board(study, sponsor)
    scope = scope_for(sponsor, visible_sites(sponsor))
    assert scope.counts_only
    assert column(everything["serious_events"], "SAE reports due") == {
        sites["BDX"].id: 1,
        sites["TLS"].id: 1,
    }
    assert everything["serious_events"].visible_rows(scope) == []


def _subject_with_data(study, sites, staff, save, n):
    subject = register(sites, staff)
    today = utcnow().date()
    save(subject, "SCR", "ENR", {("ENR", 1): {"D0PLAN": (today - timedelta(30)).isoformat()}})
    save(subject, *AE, {("AE", 1): ae_row(1, "Y")})
    queries.open_query(study, subject, QueryTarget("SCR"), f"Check {n}?", actor=None)
    db.session.commit()


def test_the_statements_run_do_not_grow_with_the_number_of_subjects(
    study, sites, staff, save, datamanager
):
    def statements() -> int:
        db.session.expire_all()
        sites_seen = visible_sites(datamanager)
        with counting_statements() as seen:
            compute(study, scope_for(datamanager, sites_seen))
        return len(seen)

    for n in range(5):
        _subject_with_data(study, sites, staff, save, n)
    five = statements()
    for n in range(10):
        _subject_with_data(study, sites, staff, save, n)
    fifteen = statements()
    assert five == fifteen
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Query)) == 15
