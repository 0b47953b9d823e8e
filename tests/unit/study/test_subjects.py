"""Subjects: identifiers per site, registration under concurrency, status transitions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.audit.chain import verify_chain
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.models import Site, Subject, SubjectStatus
from ecrf.study import subjects
from tests.capture import count, events, last_seq, race

S = SubjectStatus


def test_identifiers_are_numbered_per_site(sites, staff, other_staff):
    first = subjects.register_subject(sites["BDX"], actor=staff)
    second = subjects.register_subject(sites["BDX"], actor=staff)
    elsewhere = subjects.register_subject(sites["TLS"], actor=other_staff)
    db.session.commit()
    assert [s.identifier for s in (first, second, elsewhere)] == ["BDX-001", "BDX-002", "TLS-001"]
    assert (first.status, first.created_by_id, first.site_id) == (
        S.SCREENING,
        staff.id,
        sites["BDX"].id,
    )
    (registered,) = events("BDX-002", entity="subject")
    assert (
        registered.action,
        registered.field,
        registered.new,
        registered.actor_id,
        registered.site_id,
    ) == ("subject_registered", "status", "screening", staff.id, sites["BDX"].id)
    assert subjects.get_subject("bdx-002").id == second.id


def test_registrations_at_once_get_distinct_numbers(app, sites, staff):
    site_id, staff_id = sites["BDX"].id, staff.id

    def work(n: int) -> str:
        return subjects.register_subject(
            db.session.get(Site, site_id), actor=db.session.get(User, staff_id)
        ).identifier

    outcomes = race(app, 6, work)
    assert sorted(outcomes) == [f"BDX-{n:03d}" for n in range(1, 7)], outcomes
    db.session.expire_all()
    assert db.session.get(Site, site_id).last_subject_number == 6
    assert count(Subject) == 6
    assert verify_chain()[1] is None


@pytest.mark.parametrize("who", ["other_staff", "monitor"])
def test_only_staff_of_the_site_may_register_its_subjects(request, sites, who):
    actor = request.getfixturevalue(who)
    before = last_seq()
    with pytest.raises(PermissionDenied):
        subjects.register_subject(sites["BDX"], actor=actor)
    db.session.rollback()
    assert count(Subject) == 0 and last_seq() == before
    assert db.session.get(Site, sites["BDX"].id).last_subject_number == 0


def test_a_subject_goes_through_the_allowed_statuses_each_change_audited(
    study, subject, staff, investigator
):
    # The investigator decides the inclusion; site staff record the follow-up and the end.
    path = [
        (S.INCLUDED, "Eligible", investigator),
        (S.IN_FOLLOW_UP, "Treatment done", staff),
        (S.COMPLETED, "Last visit done", staff),
    ]
    for status, reason, actor in path:
        subjects.change_status(study, subject, status, actor=actor, reason=f" {reason} ")
        db.session.commit()
    assert (subject.status, subject.status_reason) == (S.COMPLETED, "Last visit done")
    changed = events("BDX-001", "subject_status_changed", entity="subject")
    assert [(e.old, e.new, e.reason, e.actor_id) for e in changed] == [
        ("screening", "included", "Eligible", investigator.id),
        ("included", "in_follow_up", "Treatment done", staff.id),
        ("in_follow_up", "completed", "Last visit done", staff.id),
    ]


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], S.COMPLETED),
        ([], S.IN_FOLLOW_UP),
        ([S.SCREEN_FAILURE], S.INCLUDED),
        ([S.INCLUDED, S.WITHDRAWN], S.IN_FOLLOW_UP),
        ([S.INCLUDED, S.COMPLETED], S.WITHDRAWN),
        ([S.INCLUDED], S.SCREENING),
    ],
)
def test_a_transition_the_protocol_does_not_allow_is_refused(
    study, subject, investigator, path, refused
):
    for status in path:
        subjects.change_status(study, subject, status, actor=investigator, reason="step")
    db.session.commit()
    current, before = subject.status, last_seq()
    with pytest.raises(RuleViolation) as caught:
        subjects.change_status(study, subject, refused, actor=investigator, reason="Because")
    db.session.rollback()
    assert caught.value.field == "status"
    assert f"cannot become {refused.label.lower()}" in caught.value.message
    assert subject.status is current and last_seq() == before


def test_a_change_of_status_needs_a_reason(study, subject, investigator):
    before = last_seq()
    with pytest.raises(RuleViolation) as caught:
        subjects.change_status(study, subject, S.INCLUDED, actor=investigator, reason="  ")
    db.session.rollback()
    assert caught.value.field == "reason"
    assert subject.status is S.SCREENING and last_seq() == before


@pytest.mark.parametrize("decision", [S.INCLUDED, S.SCREEN_FAILURE, S.WITHDRAWN])
def test_inclusion_screen_failure_and_withdrawal_are_the_investigators_decisions(
    study, subject, staff, investigator, decision
):
    before = last_seq()
    with pytest.raises(PermissionDenied):
        subjects.change_status(
            study, subject, decision, actor=staff, reason="Prepared by the nurse"
        )
    db.session.rollback()
    db.session.expire_all()
    assert subject.status is S.SCREENING and last_seq() == before

    subjects.change_status(study, subject, decision, actor=investigator, reason="Decided")
    db.session.commit()
    assert subject.status is decision
    (changed,) = events("BDX-001", "subject_status_changed", entity="subject")
    assert (changed.new, changed.actor_id) == (decision.value, investigator.id)


def test_site_staff_record_the_follow_up_and_the_completion(study, subject, staff, investigator):
    subjects.change_status(study, subject, S.INCLUDED, actor=investigator, reason="Eligible")
    subjects.change_status(study, subject, S.IN_FOLLOW_UP, actor=staff, reason="D0 done")
    db.session.commit()
    with pytest.raises(PermissionDenied):  # still the investigator's decision
        subjects.change_status(study, subject, S.WITHDRAWN, actor=staff, reason="Lost")
    db.session.rollback()
    subjects.change_status(study, subject, S.COMPLETED, actor=staff, reason="M6 done")
    db.session.commit()
    assert subject.status is S.COMPLETED


def test_an_investigator_of_another_site_may_not_decide(study, subject, create_user):
    elsewhere = db.session.get(User, create_user("tls.investigator", Role.INVESTIGATOR, "TLS"))
    with pytest.raises(PermissionDenied):
        subjects.change_status(study, subject, S.INCLUDED, actor=elsewhere, reason="Eligible")


def test_staff_of_another_site_may_not_change_a_status(study, subject, other_staff):
    with pytest.raises(PermissionDenied):
        subjects.change_status(study, subject, S.INCLUDED, actor=other_staff, reason="Eligible")


def test_people_see_the_subjects_of_their_sites_only(sites, staff, other_staff, monitor):
    subjects.register_subject(sites["BDX"], actor=staff)
    subjects.register_subject(sites["TLS"], actor=other_staff)
    db.session.commit()

    def seen(user, **filters):
        query = subjects.visible_subjects_query(user, **filters)
        return [s.identifier for s in db.session.scalars(query)]

    assert seen(staff) == ["BDX-001"]
    assert seen(other_staff) == ["TLS-001"]
    assert seen(monitor) == ["BDX-001"]
    assert seen(None) == ["BDX-001", "TLS-001"]
    assert seen(None, site_code="tls") == ["TLS-001"]
    assert seen(None, status=S.INCLUDED) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subject)) == 2


def test_the_subject_lock_says_whether_this_transaction_already_held_it(subject):
    """A write reads the subject afresh only when it takes the lock (ecrf.crf.save.entry):
    within the transaction holding it, nobody else writes the subject."""
    assert subjects.lock_subject(subject) is True
    assert subjects.lock_subject(subject) is False
    db.session.commit()
    assert subjects.lock_subject(subject) is True
    db.session.rollback()
    assert subjects.lock_subject(subject) is True
