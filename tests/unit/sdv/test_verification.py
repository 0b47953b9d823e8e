"""Source-data verification: monitors verify an item, a row, a form or a visit; a later
change (or a removed row) withdraws the verification of what changed only, visibly and in
the audit trail; only monitors verify, and only at their sites; the plan picks the same
subjects every time and always includes the critical forms."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services as crf
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.sdv import plan, progress
from ecrf.sdv import services as sdv
from ecrf.sdv.display import form_verification
from ecrf.sdv.models import SitePlan, SourceVerification, Withdrawal
from ecrf.sdv.services import SdvTarget
from ecrf.study import subjects
from tests.capture import entry_of, events
from tests.definitions.mini import STUDY

LB_VALUES = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}}
LB_FORM = SdvTarget("SCR", 1, "LB")
HGB = SdvTarget("SCR", 1, "LB", item_oid="HGB")


def lesion(key: int) -> dict[str, str]:
    return {"LESID": f"L{key}", "SUVMAX": "12.5", "SUVMEAN": "6.1"}


@pytest.fixture
def with_labs(subject, save):
    save(subject, "SCR", "LB", LB_VALUES)
    return subject


@pytest.fixture
def tls_monitor(sites, create_user) -> User:
    return db.session.get(User, create_user("tls.monitor", Role.MONITOR, "TLS"))


@pytest.fixture
def datamanager(sites, create_user) -> User:
    return db.session.get(User, create_user("data.manager", Role.DATA_MANAGER))


def trail(action: str) -> list[tuple]:
    found = db.session.scalars(sa.select(SourceVerification).order_by(SourceVerification.id)).all()
    return [
        (e.action, e.field, e.old, e.new, e.reason)
        for v in found
        for e in events(v.id, action, entity="source_verification")
    ]


def current() -> list[tuple]:
    return sorted(
        (v.group_oid, v.repeat_key, v.item_oid, v.value)
        for v in db.session.scalars(
            sa.select(SourceVerification).where(SourceVerification.withdrawn_at.is_(None))
        )
    )


# --- the plan --------------------------------------------------------------------------


def test_the_sample_is_the_same_every_time_and_raising_the_share_only_adds_subjects(study):
    identifiers = [f"BDX-{n:03}" for n in range(1, 501)]
    chosen = {
        share: {i for i in identifiers if plan.sampled(study, i, share)}
        for share in (0, 10, 20, 50, 100)
    }
    assert chosen[0] == set() and chosen[100] == set(identifiers)
    assert chosen[10] <= chosen[20] <= chosen[50] <= chosen[100]
    assert 60 <= len(chosen[20]) <= 140  # about one in five
    again = {i for i in identifiers if plan.sampled(study, i, 20)}
    assert again == chosen[20]
    # Another study draws another sample from the same identifiers.
    other = LoadedStudy(replace(STUDY, oid="OTHER"))
    assert {i for i in identifiers if plan.sampled(other, i, 20)} != chosen[20]


def test_critical_forms_are_in_the_plan_for_every_subject_even_at_zero_percent(study):
    targeted = LoadedStudy(replace(STUDY, critical_forms=("LB",), sdv_sample_percent=0))
    for n in range(1, 60):
        assert plan.form_required(targeted, f"BDX-{n:03}", "LB", 0)
        assert not plan.form_required(targeted, f"BDX-{n:03}", "DM", 0)


def test_a_site_follows_the_definition_until_a_data_manager_sets_its_own_share(
    study, sites, datamanager
):
    assert plan.site_percentage(study, sites["BDX"].id) == STUDY.sdv_sample_percent
    sdv.set_site_plan(study, sites["BDX"], " 35 ", "More findings at this site", actor=datamanager)
    db.session.commit()
    assert plan.site_percentage(study, sites["BDX"].id) == 35
    assert plan.site_percentage(study, sites["TLS"].id) == STUDY.sdv_sample_percent
    sdv.set_site_plan(study, sites["BDX"], "", "Back to the protocol's plan", actor=datamanager)
    db.session.commit()
    assert db.session.get(SitePlan, sites["BDX"].id) is None
    assert [
        (e.action, e.field, e.old, e.new, e.reason)
        for e in events(sites["BDX"].id, "sdv_plan_changed", entity="site")
    ] == [
        (
            "sdv_plan_changed",
            "sdv_sample_percent",
            "100 % (definition)",
            "35 %",
            "More findings at this site",
        ),
        (
            "sdv_plan_changed",
            "sdv_sample_percent",
            "35 %",
            "100 % (definition)",
            "Back to the protocol's plan",
        ),
    ]


@pytest.mark.parametrize(
    ("percentage", "reason", "field"),
    [
        ("101", "why", "percentage"),
        ("-5", "why", "percentage"),
        ("ten", "why", "percentage"),
        ("2.5", "why", "percentage"),
        ("20", "  ", "reason"),
    ],
)
def test_a_bad_share_or_no_reason_is_refused_at_its_field(
    study, sites, datamanager, percentage, reason, field
):
    with pytest.raises(RuleViolation) as caught:
        sdv.set_site_plan(study, sites["BDX"], percentage, reason, actor=datamanager)
    assert caught.value.field == field
    db.session.rollback()
    assert db.session.get(SitePlan, sites["BDX"].id) is None


def test_only_data_managers_set_a_sites_plan(study, sites, monitor, investigator):
    for actor in (monitor, investigator):
        with pytest.raises(PermissionDenied):
            sdv.set_site_plan(study, sites["BDX"], "50", "why", actor=actor)
    assert events(sites["BDX"].id, "sdv_plan_changed", entity="site") == []


# --- verifying -------------------------------------------------------------------------


def test_a_monitor_verifies_one_item_and_the_trail_says_which_and_what(study, with_labs, monitor):
    made = sdv.verify(study, with_labs, HGB, actor=monitor)
    db.session.commit()
    assert [(v.item_oid, v.value, v.verified_by_id) for v in made] == [("HGB", "13.0", monitor.id)]
    assert current() == [("LB", 1, "HGB", "13.0")]
    assert trail("source_verified") == [
        ("source_verified", "SCR[1]/LB/LB[1].HGB", None, "13.0", None)
    ]


def test_verifying_a_form_verifies_each_value_and_leaves_out_derived_ones(
    study, subject, save, monitor
):
    save(subject, "SCR", "DM", {("DM", 1): {"SEX": "F", "WEIGHT": "70", "HEIGHT": "175"}})
    made = sdv.verify(study, subject, SdvTarget("SCR", 1, "DM"), actor=monitor)
    assert sorted(v.item_oid for v in made) == ["HEIGHT", "SEX", "WEIGHT"]  # not BMI
    assert len(trail("source_verified")) == 3
    shown = form_verification(study, subject, entry_of(subject, "SCR", "DM"), "DM", monitor)
    assert shown.state == "verified"
    assert shown.item("DM", 1, "BMI") is None


def test_a_visit_a_row_and_an_item_each_verify_what_they_hold(study, subject, save, monitor):
    save(subject, "SCR", "LB", LB_VALUES)
    save(subject, "SCR", "DM", {("DM", 1): {"SEX": "M"}})
    save(subject, "BASE", "LES", {("LESION", 1): lesion(1), ("LESION", 2): lesion(2)})
    row = sdv.verify(study, subject, SdvTarget("BASE", 1, "LES", "LESION", 2), actor=monitor)
    assert {(v.group_oid, v.repeat_key) for v in row} == {("LESION", 2)}
    assert sorted(v.item_oid for v in row) == ["LESID", "SUVMAX", "SUVMEAN"]
    visit = sdv.verify(study, subject, SdvTarget("SCR"), actor=monitor)
    assert sorted(v.item_oid for v in visit) == ["HGB", "LBDAT", "SEX"]


def test_verifying_what_is_verified_already_is_refused_and_writes_nothing(
    study, with_labs, monitor
):
    sdv.verify(study, with_labs, LB_FORM, actor=monitor)
    before = len(trail("source_verified"))
    with pytest.raises(RuleViolation, match="verified already"):
        sdv.verify(study, with_labs, HGB, actor=monitor)
    assert len(trail("source_verified")) == before


@pytest.mark.parametrize(
    "target",
    [
        SdvTarget("SCR", 1, "DM"),  # no data in this form
        SdvTarget("BASE"),  # no data at this visit
        SdvTarget("SCR", 1, "LB", item_oid="NOPE"),
        SdvTarget("SCR", 1, "LB", "LB", 7),
        SdvTarget("NOPE"),
        SdvTarget("SCR", 1, "LES"),  # not a form of this visit
    ],
)
def test_verifying_what_holds_no_data_is_not_found(study, with_labs, monitor, target):
    with pytest.raises(NotFound):
        sdv.verify(study, with_labs, target, actor=monitor)


def test_only_a_monitor_at_the_subjects_site_verifies(
    study, with_labs, tls_monitor, staff, investigator, datamanager
):
    for actor in (tls_monitor, staff, investigator, datamanager):
        with pytest.raises(PermissionDenied):
            sdv.verify(study, with_labs, LB_FORM, actor=actor)
    assert current() == []


# --- withdrawn by a later change -------------------------------------------------------


def test_a_change_withdraws_only_the_changed_values_verification_visibly_and_audited(
    study, with_labs, save, monitor, staff
):
    sdv.verify(study, with_labs, LB_FORM, actor=monitor)
    db.session.commit()
    save(with_labs, "SCR", "LB", {("LB", 1): {"HGB": "12.5"}})
    assert current() == [("LB", 1, "LBDAT", "2024-05-02")]
    withdrawn = db.session.scalar(
        sa.select(SourceVerification).where(SourceVerification.withdrawn_at.is_not(None))
    )
    assert (
        withdrawn.item_oid,
        withdrawn.withdrawn_cause,
        withdrawn.value,
        withdrawn.withdrawn_value,
        withdrawn.withdrawn_by_id,
    ) == ("HGB", Withdrawal.CHANGED, "13.0", "12.5", staff.id)
    assert trail("verification_withdrawn") == [
        (
            "verification_withdrawn",
            "SCR[1]/LB/LB[1].HGB",
            "13.0",
            "12.5",
            "value changed after verification",
        )
    ]
    shown = form_verification(study, with_labs, entry_of(with_labs, "SCR", "LB"), "LB", monitor)
    assert (shown.state, shown.item("LB", 1, "HGB"), shown.item("LB", 1, "LBDAT")) == (
        "partly",
        "withdrawn",
        "verified",
    )
    # Verified again: the withdrawal stays in the history, the item is verified.
    sdv.verify(study, with_labs, HGB, actor=monitor)
    shown = form_verification(study, with_labs, entry_of(with_labs, "SCR", "LB"), "LB", monitor)
    assert (shown.state, shown.withdrawn) == ("verified", {})


def test_a_save_that_changes_nothing_verified_withdraws_nothing(study, with_labs, save, monitor):
    sdv.verify(study, with_labs, HGB, actor=monitor)
    db.session.commit()
    save(with_labs, "SCR", "LB", {("LB", 1): {"HGB": "13", "LBDAT": "2024-05-03"}})
    assert current() == [("LB", 1, "HGB", "13.0")]
    assert trail("verification_withdrawn") == []


def test_removing_a_row_withdraws_its_verifications_and_no_others(study, subject, save, monitor):
    save(subject, "BASE", "LES", {("LESION", 1): lesion(1), ("LESION", 2): lesion(2)})
    sdv.verify(study, subject, SdvTarget("BASE", 1, "LES"), actor=monitor)
    db.session.commit()
    entry = entry_of(subject, "BASE", "LES")
    crf.remove_row(
        study,
        subject,
        "BASE",
        "LES",
        "LESION",
        2,
        actor=None,
        reason="Duplicate of lesion 1",
        expected_version=entry.version,
    )
    assert {(g, k) for g, k, _, _ in current()} == {("LESION", 1)}
    assert [(t[1], t[4]) for t in trail("verification_withdrawn")] == [
        ("BASE[1]/LES/LESION[2].LESID", "row removed after verification"),
        ("BASE[1]/LES/LESION[2].SUVMAX", "row removed after verification"),
        ("BASE[1]/LES/LESION[2].SUVMEAN", "row removed after verification"),
    ]


# --- progress --------------------------------------------------------------------------


def test_progress_counts_what_the_plan_requires_verified_and_withdrawn(
    study, sites, subject, save, monitor, staff
):
    targeted = LoadedStudy(replace(STUDY, critical_forms=("LB",), sdv_sample_percent=0))
    save(subject, "SCR", "LB", LB_VALUES)
    save(subject, "SCR", "DM", {("DM", 1): {"SEX": "M"}})
    other = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    sdv.verify(targeted, subject, LB_FORM, actor=monitor)
    sdv.verify(targeted, subject, SdvTarget("SCR", 1, "DM"), actor=monitor)  # beyond the plan
    db.session.commit()
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "14"}})
    per_site, per_subject = progress.overview(targeted, [sites["BDX"]])
    first = next(sp for sp in per_subject if sp.subject.id == subject.id)
    assert not first.sampled
    p = first.progress
    assert (p.required, p.verified, p.pending, p.withdrawn, p.beyond) == (2, 1, 1, 1, 1)
    assert first.visits[("SCR", 1)].required == 2
    assert next(sp for sp in per_subject if sp.subject.id == other.id).progress.required == 0
    site = per_site[0]
    assert (site.percentage, site.subjects, site.sampled) == (0, 2, 0)
    assert (site.progress.required, site.progress.verified) == (2, 1)
