"""Forms of a visit of a sub-group the subject is not (or no longer) in never count as
missing: not on the dashboards' "forms missing", not on the subjects' matrix, not in the
casebook's schedule."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ecrf.crf.visits import set_visit_date
from ecrf.dashboards.board import compute
from ecrf.dashboards.scope import scope_for, visible_sites
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.reporting.casebook import build_casebook
from ecrf.study import overview, subjects
from reports.render import render_html


def missing_forms(study, user) -> set[tuple[str, str]]:
    sections = {s.key: s for s in compute(study, scope_for(user, visible_sites(user)))}
    return {(r.visit_oid, r.form_oid) for r in sections["forms"].rows}


@pytest.fixture
def treated(study, sites, staff, save):
    """In the therapy sub-group: D0 40 days ago, the treatment visit dated 10 days ago,
    its lab form in progress."""
    subject = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    today = utcnow().date()
    save(
        subject,
        "SCR",
        "ENR",
        {("ENR", 1): {"D0PLAN": (today - timedelta(40)).isoformat(), "THERAPY": "Y"}},
    )
    set_visit_date(study, subject, "TX", today - timedelta(10), actor=staff)
    db.session.commit()
    save(subject, "TX", "LB", {("LB", 1): {"LBDAT": (today - timedelta(10)).isoformat()}})
    return subject


def leave_the_subgroup(subject, save) -> None:
    save(subject, "SCR", "ENR", {("ENR", 1): {"THERAPY": "N"}})


def test_a_sub_group_form_is_missing_while_the_subject_is_in_the_sub_group(study, treated, monitor):
    assert ("TX", "LB") in missing_forms(study, monitor)
    (row,) = overview.matrix(study, [treated])
    assert row.cells["TX"].state == "in_progress"


def test_out_of_the_sub_group_its_forms_are_not_missing_on_the_dashboard(
    study, treated, monitor, save
):
    leave_the_subgroup(treated, save)
    assert not {visit for visit, _ in missing_forms(study, monitor)} & {"TX", "FU"}


def test_out_of_the_sub_group_the_matrix_says_not_applicable(study, treated, save):
    leave_the_subgroup(treated, save)
    (row,) = overview.matrix(study, [treated])
    for visit in ("TX", "FU"):
        assert (row.cells[visit].state, row.cells[visit].label) == ("na", "not applicable")


def test_out_of_the_sub_group_the_casebook_expects_no_form_there(
    study, treated, save, investigator
):
    leave_the_subgroup(treated, save)
    visits = {v["oid"]: v for v in build_casebook(study, treated, actor=investigator)["visits"]}
    assert not visits["TX"]["applicable"] and not visits["FU"]["applicable"]
    assert visits["TX"]["window_state"] == "not_applicable"
    assert visits["SCR"]["applicable"]


def test_the_printed_schedule_counts_no_form_of_a_visit_out_of_the_sub_group(
    study, treated, save, investigator
):
    leave_the_subgroup(treated, save)
    html = render_html("casebook.html", build_casebook(study, treated, actor=investigator))
    schedule = re.search(r'<section id="schedule".*?</section>', html, re.S).group(0)
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r"<strong>(\w+)</strong>.*?<td class=\"number\">(.*?)</td>", schedule, re.S
        )
    }
    assert rows["TX"] == "—" and rows["FU"] == "—"
    assert rows["SCR"].endswith("/ 3")


def test_the_casebook_trail_reads_a_change_as_the_form_shows_it(study, treated, save, investigator):
    leave_the_subgroup(treated, save)
    trail = build_casebook(study, treated, actor=investigator)["trail"]
    (change,) = [e for e in trail if e["old"]]
    assert (change["old"], change["new"]) == ("Yes", "No")
