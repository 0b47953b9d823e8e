"""The dashboard's locks section: active locks per site and level, the study's freeze."""

from __future__ import annotations

from ecrf.dashboards.board import compute
from ecrf.dashboards.scope import scope_for, visible_sites
from ecrf.extensions import db
from ecrf.locks import services as locks
from ecrf.locks.services import LockTarget


def section(study, user):
    found = compute(study, scope_for(user, visible_sites(user)))
    return next(s for s in found if s.key == "locks")


def figures(section) -> dict[str, int]:
    return {column.heading: column.total() for column in section.columns}


def test_active_locks_per_site_and_the_freeze(study, sites, subject, save, datamanager):
    save(subject, "SCR", "LB", {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}})
    form = locks.lock(
        study, LockTarget(subject=subject, visit_oid="SCR", form_oid="LB"), actor=datamanager
    )
    locks.lock(study, LockTarget(subject=subject), actor=datamanager)
    db.session.commit()
    seen = section(study, datamanager)
    assert figures(seen) == {
        "Site locked": 0,
        "Subjects locked": 1,
        "Visits locked": 0,
        "Forms locked": 1,
    }
    assert seen.extra["frozen"] is None
    assert [r.target for r in seen.rows] == [subject.identifier, f"{subject.identifier}/SCR[1]/LB"]

    locks.unlock(form, "corrected from the source", actor=datamanager)
    locks.lock(study, LockTarget(), actor=datamanager)
    db.session.commit()
    seen = section(study, datamanager)
    assert figures(seen)["Forms locked"] == 0
    assert seen.extra["frozen"] is not None
