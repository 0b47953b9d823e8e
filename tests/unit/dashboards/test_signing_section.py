"""The dashboard's signatures section: visits with every form complete, inclusion decisions
made and casebooks of subjects who left, awaiting a valid signature; an invalidated one
first, until the investigator signs again."""

from __future__ import annotations

from ecrf.dashboards.board import compute
from ecrf.dashboards.scope import scope_for, visible_sites
from ecrf.extensions import db
from ecrf.records.models import SubjectStatus
from ecrf.signatures import services as signatures
from ecrf.signatures.content import ScopeKey
from ecrf.signatures.models import Scope
from ecrf.study import subjects
from tests.conftest import PASSWORD

SCR = ScopeKey(Scope.VISIT, "SCR", 1)
LB = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}}


def section(study, user):
    found = compute(study, scope_for(user, visible_sites(user)))
    return next(s for s in found if s.key == "signatures")


def figures(section) -> dict[str, int]:
    return {column.heading: column.total() for column in section.columns}


def sign(study, subject, key, investigator):
    signing = signatures.sign(
        study, subject, key, actor=investigator, password=PASSWORD, username=investigator.username
    )
    assert signing.signature is not None, signing.refusal
    db.session.commit()


def test_what_awaits_a_signature_and_what_a_change_invalidated(
    study, subject, save, staff, investigator, datamanager
):
    save(subject, "SCR", "LB", LB, complete=True)
    save(subject, "BASE", "LES", {("ORG", 1): {"LIVSUV": "2.0"}})  # in progress: not yet
    subjects.change_status(
        study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="eligible"
    )
    db.session.commit()

    awaiting = section(study, datamanager)
    assert figures(awaiting) == {
        "Visits to sign": 1,
        "Inclusion decisions to sign": 1,
        "Casebooks to sign": 0,
        "Invalidated, not signed again": 0,
    }
    assert [(r.subject, r.scope, r.visit_oid) for r in awaiting.rows] == [
        (subject.identifier, Scope.VISIT, "SCR"),
        (subject.identifier, Scope.INCLUSION, None),
    ]

    sign(study, subject, SCR, investigator)
    sign(study, subject, ScopeKey(Scope.INCLUSION), investigator)
    assert figures(section(study, datamanager))["Visits to sign"] == 0
    assert section(study, datamanager).rows == []

    # The screening labs are data of the visit and of the decision: both signatures fall.
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "12"}}, reason="transcription")
    invalidated = section(study, datamanager)
    assert figures(invalidated)["Visits to sign"] == 1
    assert figures(invalidated)["Inclusion decisions to sign"] == 1
    assert figures(invalidated)["Invalidated, not signed again"] == 2
    assert [(r.scope, r.visit_oid, r.invalidated) for r in invalidated.rows] == [
        (Scope.VISIT, "SCR", True),
        (Scope.INCLUSION, None, True),
    ]

    sign(study, subject, SCR, investigator)
    again = section(study, datamanager)
    assert figures(again)["Invalidated, not signed again"] == 1
    assert [r.scope for r in again.rows] == [Scope.INCLUSION]


def test_a_subject_who_left_awaits_the_casebook_signature(
    study, subject, save, staff, investigator, datamanager
):
    save(subject, "SCR", "LB", LB, complete=True)
    subjects.change_status(
        study, subject, SubjectStatus.SCREEN_FAILURE, actor=investigator, reason="not eligible"
    )
    db.session.commit()
    assert figures(section(study, datamanager))["Casebooks to sign"] == 1
    sign(study, subject, ScopeKey(Scope.CASEBOOK), investigator)
    assert figures(section(study, datamanager))["Casebooks to sign"] == 0
