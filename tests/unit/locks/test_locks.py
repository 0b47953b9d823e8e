"""Locks: a data manager locks a form, a visit, a subject, a site or the whole study; every
write path refuses what a lock holds (and nothing else), naming the lock; unlocking needs a
reason; both are audited, and checked against the target's site and the actor's role."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services, visits
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.locks import services as locks
from ecrf.locks.listing import LockMarks, active_locks, lifted_locks
from ecrf.locks.models import DataLock, LockLevel
from ecrf.locks.services import DataLocked, LockTarget
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.models import SubjectStatus
from ecrf.study import subjects
from tests.capture import events, last_seq

LB = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}}
LB_CHANGED = {("LB", 1): {"HGB": "12"}}
DM = {("DM", 1): {"SEX": "F"}}


@pytest.fixture
def datamanager(sites, create_user) -> User:
    """A data manager of every site."""
    return db.session.get(User, create_user("data.manager", Role.DATA_MANAGER))


@pytest.fixture
def tls_datamanager(sites, create_user) -> User:
    return db.session.get(User, create_user("tls.dm", Role.DATA_MANAGER, "TLS"))


@pytest.fixture
def with_labs(subject, save):
    save(subject, "SCR", "LB", LB)
    return subject


@pytest.fixture
def second(sites, staff):
    """BDX-002."""
    made = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    return made


def lock(study, actor, **target):
    made = locks.lock(study, LockTarget(**target), "Cleaned for the interim analysis", actor=actor)
    db.session.commit()
    return made


def refused_save(save, subject, visit, form, values, **options):
    before = last_seq()
    with pytest.raises(services.ValidationFailed) as caught:
        save(subject, visit, form, values, **options)
    db.session.rollback()
    assert last_seq() == before  # nothing written, not even an audit event
    return caught.value.form_errors


def test_a_locked_form_refuses_its_save_naming_the_lock_and_nothing_else(
    study, with_labs, save, datamanager
):
    lock(study, datamanager, subject=with_labs, visit_oid="SCR", form_oid="LB")
    (message,) = refused_save(save, with_labs, "SCR", "LB", LB_CHANGED, reason="typo")
    assert message.startswith("This form is locked: Haematology of visit Screening of BDX-001")
    assert "Data.Manager" in message and "UTC" in message
    assert "ask a data manager to unlock it" in message
    # The visit's other forms, and the same form at another visit, take data.
    save(with_labs, "SCR", "DM", DM)
    visits.add_unscheduled_visit(study, with_labs, "UNS", date(2024, 5, 20), actor=None)
    save(with_labs, "UNS", "LB", LB)


def test_a_locked_visit_refuses_its_forms_and_its_date_not_the_other_visits(
    study, with_labs, save, datamanager
):
    lock(study, datamanager, subject=with_labs, visit_oid="SCR")
    assert refused_save(save, with_labs, "SCR", "DM", DM)[0].startswith("This visit is locked")
    with pytest.raises(DataLocked, match="visit Screening of BDX-001"):
        visits.set_visit_date(study, with_labs, "SCR", date(2024, 5, 1), actor=None)
    db.session.rollback()
    visits.set_visit_date(study, with_labs, "BASE", date(2024, 5, 15), actor=None)
    save(with_labs, "BASE", "LES", {("LESION", 1): {"LESID": "L1"}})


def test_a_locked_subject_refuses_rows_status_and_new_visits_and_other_subjects_go_on(
    study, with_labs, second, save, investigator, datamanager
):
    save(with_labs, "BASE", "LES", {("LESION", 1): {"LESID": "L1"}, ("LESION", 2): {"LESID": "L2"}})
    lock(study, datamanager, subject=with_labs)
    assert refused_save(save, with_labs, "SCR", "DM", DM)[0].startswith(
        "This subject is locked: BDX-001 was locked by Data.Manager"
    )
    entry = db.session.scalar(
        sa.select(services.FormEntry).where(services.FormEntry.form_oid == "LES")
    )
    with pytest.raises(DataLocked):
        services.remove_row(
            study,
            with_labs,
            "BASE",
            "LES",
            "LESION",
            2,
            actor=None,
            reason="Duplicate",
            expected_version=entry.version,
        )
    db.session.rollback()
    with pytest.raises(DataLocked):
        subjects.change_status(
            study,
            with_labs,
            SubjectStatus.SCREEN_FAILURE,
            actor=investigator,
            reason="Not eligible",
        )
    db.session.rollback()
    with pytest.raises(DataLocked):
        visits.add_unscheduled_visit(study, with_labs, "UNS", date(2024, 6, 1), actor=None)
    db.session.rollback()
    assert db.session.get(type(with_labs), with_labs.id).status is SubjectStatus.SCREENING
    save(second, "SCR", "LB", LB)
    subjects.change_status(
        study, second, SubjectStatus.SCREEN_FAILURE, actor=investigator, reason="Not eligible"
    )


def test_a_locked_site_refuses_its_subjects_and_registrations_not_another_sites(
    study, with_labs, save, sites, staff, other_staff, datamanager
):
    lock(study, datamanager, site=sites["BDX"])
    assert refused_save(save, with_labs, "SCR", "DM", DM)[0].startswith(
        "This site is locked: site BDX was locked by Data.Manager"
    )
    with pytest.raises(DataLocked, match="site BDX"):
        subjects.register_subject(sites["BDX"], actor=staff)
    db.session.rollback()
    tls = subjects.register_subject(sites["TLS"], actor=other_staff)
    db.session.commit()
    save(tls, "SCR", "LB", LB, actor=other_staff)


def test_the_study_lock_freezes_every_site(study, with_labs, save, sites, other_staff, datamanager):
    frozen = lock(study, datamanager)
    assert (frozen.level, frozen.target, frozen.site_id) == (LockLevel.STUDY, "study", None)
    assert "database freeze" in refused_save(save, with_labs, "SCR", "DM", DM)[0]
    with pytest.raises(DataLocked):
        subjects.register_subject(sites["TLS"], actor=other_staff)
    db.session.rollback()


def test_unlocking_needs_a_reason_and_lets_the_data_change_again_and_keeps_the_history(
    study, with_labs, save, datamanager
):
    held = lock(study, datamanager, subject=with_labs, visit_oid="SCR", form_oid="LB")
    for reason in ("", "   "):
        with pytest.raises(RuleViolation) as caught:
            locks.unlock(held, reason, actor=datamanager)
        assert (caught.value.field, caught.value.message) == ("reason", locks.UNLOCK_REASON_NEEDED)
    db.session.rollback()
    locks.unlock(held, " Query 12: the site corrects the haemoglobin ", actor=datamanager)
    db.session.commit()
    save(with_labs, "SCR", "LB", LB_CHANGED, reason="Query 12")
    assert (held.active, held.unlock_reason, held.unlocked_by_id) == (
        False,
        "Query 12: the site corrects the haemoglobin",
        datamanager.id,
    )
    with pytest.raises(RuleViolation, match="lifted already"):
        locks.unlock(held, "again", actor=datamanager)
    db.session.rollback()
    # Locked again: a new lock; the lifted one stays in the history.
    again = lock(study, datamanager, subject=with_labs, visit_oid="SCR", form_oid="LB")
    assert [lock.id for lock in active_locks(datamanager)] == [again.id]
    assert [lock.id for lock in lifted_locks(datamanager)] == [held.id]
    assert [
        (e.action, e.field, e.new, e.old, e.reason) for e in events(held.id, entity="data_lock")
    ] == [
        ("data_locked", "BDX-001/SCR[1]/LB", "form", None, "Cleaned for the interim analysis"),
        (
            "data_unlocked",
            "BDX-001/SCR[1]/LB",
            None,
            "form",
            "Query 12: the site corrects the haemoglobin",
        ),
    ]
    assert events(held.id, entity="data_lock")[0].site_id == with_labs.site_id


def test_a_lock_under_a_broader_one_or_twice_is_refused_with_the_covering_lock(
    study, with_labs, sites, datamanager
):
    lock(study, datamanager, subject=with_labs)
    for target in (
        dict(subject=with_labs),
        dict(subject=with_labs, visit_oid="SCR", form_oid="LB"),
    ):
        with pytest.raises(
            RuleViolation, match=r"Already locked: .* covered by the lock of BDX-001"
        ):
            locks.lock(study, LockTarget(**target), actor=datamanager)
        db.session.rollback()
    # A broader lock over a narrower one is taken; lifting it leaves the narrower in place.
    site = lock(study, datamanager, site=sites["BDX"])
    locks.unlock(site, "Reopened for the site's corrections", actor=datamanager)
    db.session.commit()
    assert locks.covering_lock(with_labs).level is LockLevel.SUBJECT


@pytest.mark.parametrize(
    ("target", "error"),
    [
        (dict(visit_oid="NOPE"), locks.NO_SUCH_VISIT),
        (dict(visit_oid="SCR", form_oid="LES"), locks.NO_SUCH_FORM),
        (dict(visit_oid="SCR", visit_repeat=2), locks.NO_SUCH_VISIT),
        (dict(visit_oid="UNS", visit_repeat=1), locks.NO_SUCH_VISIT),  # not added yet
    ],
)
def test_a_lock_on_nothing_is_refused(study, with_labs, datamanager, target, error):
    with pytest.raises(NotFound, match=error):
        locks.lock(study, LockTarget(subject=with_labs, **target), actor=datamanager)


def test_only_a_data_manager_of_the_targets_site_locks(
    study, with_labs, sites, monitor, investigator, staff, tls_datamanager, datamanager
):
    for actor in (monitor, investigator, staff, tls_datamanager):
        for target in (LockTarget(subject=with_labs), LockTarget(site=sites["BDX"])):
            with pytest.raises(PermissionDenied):
                locks.lock(study, target, actor=actor)
    # Nor the study, short of the right at every site.
    with pytest.raises(PermissionDenied, match="every site"):
        locks.lock(study, LockTarget(), actor=tls_datamanager)
    db.session.rollback()
    held = locks.lock(study, LockTarget(subject=with_labs), actor=datamanager)
    with pytest.raises(PermissionDenied):
        locks.unlock(held, "Corrections", actor=tls_datamanager)
    # Its own site's subject, yes.
    tls = subjects.register_subject(sites["TLS"], actor=None)
    assert locks.lock(study, LockTarget(subject=tls), actor=tls_datamanager).site_id == tls.site_id


def test_data_managers_of_every_site_one_by_one_may_freeze_the_study(
    study, sites, create_user, app
):
    user = db.session.get(User, create_user("dm.both", Role.DATA_MANAGER, "BDX"))
    with pytest.raises(PermissionDenied):
        locks.lock(study, LockTarget(), actor=user)
    db.session.rollback()
    from ecrf.auth import services as auth_services

    auth_services.grant_role(user, Role.DATA_MANAGER, sites["TLS"], actor=None)
    db.session.commit()
    assert locks.lock(study, LockTarget(), actor=user).level is LockLevel.STUDY


def test_queries_are_still_raised_and_answered_on_locked_data(
    study, with_labs, monitor, staff, datamanager
):
    lock(study, datamanager, subject=with_labs)
    query = queries.open_query(
        study,
        with_labs,
        QueryTarget("SCR", 1, "LB", item_oid="HGB"),
        "As on the report?",
        actor=monitor,
    )
    queries.answer_query(query, "Yes.", actor=staff)
    queries.close_query(query, actor=monitor)


def test_the_marks_say_which_lock_holds_a_subject_a_visit_or_a_form(
    study, with_labs, second, sites, datamanager
):
    form = lock(study, datamanager, subject=with_labs, visit_oid="SCR", form_oid="LB")
    visit = lock(study, datamanager, subject=second, visit_oid="BASE")
    marks = LockMarks([with_labs, second])
    assert marks.subject(with_labs) is None and marks.within(with_labs) == 1
    assert marks.visit(with_labs, "SCR") is None
    assert marks.form(with_labs, "SCR", 1, "LB") is form
    assert marks.form(with_labs, "SCR", 1, "DM") is None
    assert marks.form(second, "BASE", 1, "LES") is visit
    site = lock(study, datamanager, site=sites["BDX"])
    marks = LockMarks([with_labs, second])
    assert marks.subject(second) is site and marks.form(with_labs, "SCR", 1, "LB") is site
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DataLock)) == 3


def test_a_lock_tampered_with_in_the_database_is_seen_by_the_audit_check(
    study, with_labs, datamanager
):
    from ecrf.integrity import verify_trail

    lifted = lock(study, datamanager, subject=with_labs, visit_oid="BASE")
    locks.unlock(lifted, "Corrections", actor=datamanager)
    held = lock(study, datamanager, subject=with_labs)
    db.session.commit()
    assert verify_trail().intact
    # Lifted behind the trail's back, to slip an edit past it.
    db.session.execute(
        sa.update(DataLock).where(DataLock.id == held.id).values(unlocked_at=sa.func.now())
    )
    db.session.execute(sa.delete(DataLock).where(DataLock.id == lifted.id))
    db.session.commit()
    problems = [str(p) for p in verify_trail().problems.shown]
    assert f"lock {held.id} (BDX-001) is lifted, not as in the trail" in problems
    assert f"lock {lifted.id} is missing from the data but the trail locked it" in problems
