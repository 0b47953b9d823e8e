"""The dashboard's source-verification section: values the plan asks to verify, verified,
still to verify and withdrawn by a later change, per site and per subject."""

from __future__ import annotations

from ecrf.dashboards.board import compute
from ecrf.dashboards.scope import scope_for, visible_sites
from ecrf.extensions import db
from ecrf.sdv.services import SdvTarget, verify

LB = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}}


def section(study, user):
    found = compute(study, scope_for(user, visible_sites(user)))
    return next(s for s in found if s.key == "verification")


def figures(section) -> dict[str, int]:
    return {column.heading: column.total() for column in section.columns}


def test_progress_against_the_plan_and_a_withdrawal(study, subject, save, monitor, datamanager):
    save(subject, "SCR", "LB", LB, complete=True)
    before = section(study, datamanager)
    assert figures(before) == {
        "Values in the plan": 2,
        "Verified": 0,
        "To verify": 2,
        "Withdrawn by a change": 0,
    }
    assert [(r.subject, r.pending) for r in before.rows] == [(subject.identifier, 2)]

    verify(study, subject, SdvTarget("SCR", form_oid="LB"), actor=monitor)
    db.session.commit()
    done = section(study, datamanager)
    assert figures(done)["Verified"] == 2 and figures(done)["To verify"] == 0
    assert done.rows == []
    assert done.extra["percent"][subject.site_id] == 100

    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "12"}}, reason="transcription")
    changed = section(study, datamanager)
    assert figures(changed)["Withdrawn by a change"] == 1
    assert figures(changed)["To verify"] == 1
    (row,) = changed.rows
    assert (row.subject, row.pending, row.withdrawn) == (subject.identifier, 1, 1)


def test_the_sponsor_sees_the_figures_and_no_subject(study, subject, save, sponsor):
    save(subject, "SCR", "LB", LB, complete=True)
    seen = section(study, sponsor)
    scope = scope_for(sponsor, visible_sites(sponsor))
    assert figures(seen)["To verify"] == 2
    assert seen.visible_rows(scope) == []
