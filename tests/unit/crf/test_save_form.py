"""The one write path: drafts, completion, ranges, reasons, versions, rights, definitions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecrf.audit.chain import verify_chain
from ecrf.audit.models import AuditEvent
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services, visits
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.loader import load_study
from ecrf.records.models import (
    DefinitionVersion,
    EntryStatus,
    FormEntry,
    Subject,
    SubjectVisit,
)
from ecrf.study import subjects
from tests.capture import (
    changes,
    count,
    entry_of,
    events,
    last_seq,
    race,
    refused,
    snapshot,
    value,
    where,
)
from tests.definitions.mini import STUDY

DM_ROW = {"BRTHYM": "1960-08", "SEX": "M", "WEIGHT": "70", "HEIGHT": "175"}


# --- drafts and completion ---------------------------------------------------------------


def test_a_draft_save_writes_the_values_and_audits_each_one(study, subject, save, staff):
    result = save(subject, "SCR", "DM", {("DM", 1): {"SEX": "M", "WEIGHT": "70.5"}})
    entry = result.entry
    assert (entry.status, entry.version, entry.updated_by_id) == (EntryStatus.DRAFT, 1, staff.id)
    assert result.changes == 2 and result.warnings == []
    assert value(study, subject, "SCR.DM.WEIGHT") == Decimal("70.5")
    assert changes(entry.id) == [
        ("row_added", "DM[1]", None, None, None),
        ("item_entered", "DM[1].SEX", None, "M", None),
        ("item_entered", "DM[1].WEIGHT", None, "70.5", None),
    ]
    saved = events(entry.id, "form_saved")
    assert [(e.new, e.actor, e.actor_id, e.site_id) for e in saved] == [
        ("1", "bdx.nurse", staff.id, subject.site_id)
    ]
    assert saved[0].reason is None  # a save has no reason of its own; the entry id locates it
    assert verify_chain()[1] is None


def test_items_left_out_keep_their_value_and_unchanged_values_leave_no_event(study, subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): DM_ROW}).entry
    before = last_seq()
    result = save(subject, "SCR", "DM", {("DM", 1): {"HEIGHT": "175", "NOTE": "ok"}})
    assert result.changes == 1 and result.entry.version == 2
    assert value(study, subject, "SCR.DM.WEIGHT") == Decimal("70.0")
    new = [e for e in events(entry.id) if e.seq > before]
    assert [(e.action, e.field) for e in new] == [
        ("item_entered", "DM[1].NOTE"),
        ("form_saved", None),
    ]


def test_completing_needs_every_required_item(subject, save):
    before = snapshot()
    failure = refused(save, subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "70"}}, complete=True)
    assert where(failure.issues) == [
        ("DM", 1, "BRTHYM", "error"),
        ("DM", 1, "SEX", "error"),
    ]
    assert "Required to complete the form" in failure.issues[0].message
    assert snapshot() == before


def test_completing_a_form_never_saved_with_nothing_in_it_is_refused(subject, save):
    before = snapshot()
    failure = refused(save, subject, "SCR", "DM", {}, complete=True)
    assert {i.item_oid for i in failure.issues} == {"BRTHYM", "SEX"}
    assert snapshot() == before


def test_pregnancy_is_required_for_women_only(subject, save):
    female = {**DM_ROW, "SEX": "F"}
    failure = refused(save, subject, "SCR", "DM", {("DM", 1): female}, complete=True)
    assert where(failure.issues) == [("DM", 1, "PREG", "error")]

    result = save(subject, "SCR", "DM", {("DM", 1): {**female, "PREG": "N"}}, complete=True)
    assert result.entry.status is EntryStatus.COMPLETE
    assert [e.action for e in events(result.entry.id, "form_completed")] == ["form_completed"]


def test_a_draft_may_lack_required_items(subject, save):
    result = save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "70", "SEX": "F"}})
    assert result.entry.status is EntryStatus.DRAFT
    assert [c[1] for c in changes(result.entry.id, "item_entered")] == ["DM[1].SEX", "DM[1].WEIGHT"]
    assert events(result.entry.id, "form_completed") == []


def test_a_hidden_item_is_cleared_and_the_clearing_audited(study, subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): {"SEX": "F", "PREG": "Y"}}).entry
    save(subject, "SCR", "DM", {("DM", 1): {"SEX": "M"}})
    assert value(study, subject, "SCR.DM.PREG") is None
    assert changes(entry.id)[-2:] == [
        ("item_changed", "DM[1].SEX", "F", "M", None),
        ("item_cleared", "DM[1].PREG", "Y", None, None),
    ]
    # ...and an answer typed into the hidden item is not kept either.
    save(subject, "SCR", "DM", {("DM", 1): {"PREG": "Y"}})
    assert value(study, subject, "SCR.DM.PREG") is None


# --- ranges --------------------------------------------------------------------------------


def test_a_value_outside_the_hard_range_is_refused_and_nothing_is_written(study, subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): DM_ROW}).entry
    before = snapshot()
    failure = refused(
        save, subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "500", "HEIGHT": "180", "NOTE": "x"}}
    )
    assert where(failure.issues) == [("DM", 1, "WEIGHT", "error")]
    assert "impossible here: expected 20 to 300 kg" in failure.issues[0].message
    assert snapshot() == before
    db.session.expire_all()
    assert db.session.get(FormEntry, entry.id).version == 1
    assert value(study, subject, "SCR.DM.HEIGHT") == 175


def test_a_refused_first_save_leaves_no_entry_behind(study, subject, save):
    # The visit exists already (its date was recorded): the entry is the first row written.
    visits.set_visit_date(study, subject, "SCR", date(2024, 5, 1), actor=None)
    services.publish_definition(study)
    db.session.commit()
    before = snapshot()
    refused(save, subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "500"}})
    assert snapshot() == before
    assert entry_of(subject, "SCR", "DM") is None


def test_a_value_outside_the_soft_range_is_saved_with_a_warning(study, subject, save):
    result = save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "35"}})
    assert where(result.warnings) == [("DM", 1, "WEIGHT", "warning")]
    assert "outside the usual 40 to 150 kg" in result.warnings[0].message
    assert value(study, subject, "SCR.DM.WEIGHT") == Decimal("35.0")
    assert ("item_entered", "DM[1].WEIGHT", None, "35.0", None) in changes(result.entry.id)


def test_warnings_come_back_with_the_errors_when_a_save_is_refused(subject, save):
    failure = refused(save, subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "35", "HEIGHT": "90"}})
    assert where(failure.issues) == [("DM", 1, "HEIGHT", "error"), ("DM", 1, "WEIGHT", "warning")]


# --- changes after completion --------------------------------------------------------------


def test_changing_a_complete_form_needs_a_reason_that_goes_in_the_trail(study, subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): DM_ROW}, complete=True).entry
    before = snapshot()
    failure = refused(save, subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "72"}})
    assert failure.form_errors == ["This form is complete: give the reason for the change."]
    assert snapshot() == before

    refused(save, subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "72"}}, reason="   ")
    result = save(
        subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "72"}}, reason=" Transcription error "
    )
    assert result.entry.status is EntryStatus.COMPLETE and result.entry.id == entry.id
    assert changes(entry.id, "item_changed") == [
        ("item_changed", "DM[1].WEIGHT", "70.0", "72.0", "Transcription error")
    ]
    # The derived BMI follows, with its formula as the reason.
    (bmi,) = [e for e in events(entry.id, "item_derived") if e.old is not None]
    assert (bmi.field, bmi.old, bmi.new) == ("DM[1].BMI", "22.9", "23.5")
    assert bmi.reason == "derived: weight / (height in m)²"


def test_a_complete_form_still_checks_required_items_on_later_saves(subject, save):
    save(subject, "SCR", "DM", {("DM", 1): DM_ROW}, complete=True)
    before = snapshot()
    failure = refused(save, subject, "SCR", "DM", {("DM", 1): {"SEX": ""}}, reason="typo")
    assert where(failure.issues) == [("DM", 1, "SEX", "error")]
    assert snapshot() == before


def test_a_complete_form_saved_without_changes_needs_no_reason(subject, save):
    save(subject, "SCR", "DM", {("DM", 1): DM_ROW}, complete=True)
    before = last_seq()
    result = save(subject, "SCR", "DM", {("DM", 1): DM_ROW})
    assert result.changes == 0 and result.entry.version == 2
    assert [(e.action, e.new) for e in events(result.entry.id) if e.seq > before] == [
        ("form_saved", "2")
    ]


# --- versions ------------------------------------------------------------------------------


def test_a_save_on_a_stale_version_is_refused_listing_the_other_changes(
    study, subject, save, staff, create_user
):
    colleague = db.session.get(User, create_user("bdx.doctor", Role.INVESTIGATOR, "BDX"))
    entry = save(subject, "SCR", "DM", {("DM", 1): DM_ROW}).entry
    save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "80"}}, actor=colleague, version=1)
    before = snapshot()
    with pytest.raises(services.StaleEntry) as caught:
        save(subject, "SCR", "DM", {("DM", 1): {"HEIGHT": "180"}}, version=1)
    db.session.rollback()
    stale = caught.value
    assert stale.status == 409
    assert [(e.action, e.field, e.old, e.new, e.actor) for e in stale.changes] == [
        ("item_changed", "DM[1].WEIGHT", "70.0", "80.0", "bdx.doctor"),
        ("item_derived", "DM[1].BMI", "22.9", "26.1", "bdx.doctor"),
    ]
    assert snapshot() == before
    db.session.expire_all()
    assert db.session.get(FormEntry, entry.id).version == 2
    assert value(study, subject, "SCR.DM.HEIGHT") == 175


def test_a_new_form_saved_meanwhile_by_someone_else_is_a_stale_save(subject, save):
    save(subject, "SCR", "DM", {("DM", 1): DM_ROW})
    before = snapshot()
    with pytest.raises(services.StaleEntry) as caught:
        save(subject, "SCR", "DM", {("DM", 1): {"SEX": "F"}}, version=0)
    db.session.rollback()
    assert snapshot() == before
    assert ("item_entered", "DM[1].SEX") in [(e.action, e.field) for e in caught.value.changes]


def test_a_version_that_does_not_exist_yet_is_refused(subject, save):
    with pytest.raises(services.StaleEntry):
        save(subject, "SCR", "DM", {("DM", 1): DM_ROW}, version=3)
    db.session.rollback()
    assert entry_of(subject, "SCR", "DM") is None


def test_of_two_saves_racing_on_one_version_exactly_one_wins(
    app, study, subject, save, staff, slow_reads
):
    entry = save(subject, "SCR", "DM", {("DM", 1): DM_ROW}).entry
    subject_id, staff_id, entry_id = subject.id, staff.id, entry.id

    def work(n: int):
        try:
            return services.save_form(
                study,
                db.session.get(Subject, subject_id),
                "SCR",
                "DM",
                {("DM", 1): {"WEIGHT": f"{80 + n}"}},
                actor=db.session.get(User, staff_id),
                expected_version=1,
            ).entry.version
        except services.StaleEntry as exc:  # what the loser is shown, read in its session
            db.session.rollback()
            return [(e.action, e.field, e.new) for e in exc.changes]

    outcomes = race(app, 2, work)
    assert outcomes.count(2) == 1, outcomes
    winner = outcomes.index(2)
    loser = outcomes[1 - winner]
    assert isinstance(loser, list), outcomes  # refused as stale, not failed otherwise
    assert ("item_changed", "DM[1].WEIGHT", f"{80 + winner}.0") in loser
    db.session.expire_all()
    assert db.session.get(FormEntry, entry_id).version == 2
    assert value(study, subject, "SCR.DM.WEIGHT") == Decimal(80 + winner)
    assert [e.new for e in events(entry_id, "form_saved")] == ["1", "2"]
    assert verify_chain()[1] is None


def test_of_two_first_saves_of_a_new_visit_racing_exactly_one_wins(
    app, study, subject, staff, slow_reads
):
    services.publish_definition(study)  # already published: the two meet at the visit
    db.session.commit()
    subject_id, staff_id = subject.id, staff.id

    def work(n: int):
        return services.save_form(
            study,
            db.session.get(Subject, subject_id),
            "SCR",
            "DM",
            {("DM", 1): {"WEIGHT": f"{80 + n}"}},
            actor=db.session.get(User, staff_id),
            expected_version=0,
        ).entry.version

    outcomes = race(app, 2, work)
    assert sorted(type(o).__name__ for o in outcomes) == ["StaleEntry", "int"], outcomes
    db.session.expire_all()
    assert count(SubjectVisit) == 1 and count(FormEntry) == 1
    assert count(DefinitionVersion) == 1
    entry = entry_of(subject, "SCR", "DM")
    assert [e.new for e in events(entry.id, "form_saved")] == ["1"]
    assert len(changes(entry.id, "item_entered")) == 1
    assert verify_chain()[1] is None


def test_first_saves_of_two_subjects_at_once_publish_the_definition_once(app, study, sites, staff):
    ids = [subjects.register_subject(sites["BDX"], actor=staff).id for _ in range(2)]
    db.session.commit()
    staff_id = staff.id

    def work(n: int):
        return services.save_form(
            study,
            db.session.get(Subject, ids[n]),
            "SCR",
            "DM",
            {("DM", 1): DM_ROW},
            actor=db.session.get(User, staff_id),
            expected_version=0,
        ).entry.version

    assert race(app, 2, work) == [1, 1]
    assert count(DefinitionVersion) == 1
    for subject_id in ids:
        entry = entry_of(db.session.get(Subject, subject_id), "SCR", "DM")
        assert [e.new for e in events(entry.id, "form_saved")] == ["1"]
    assert [e.action for e in events("MINI/1.0", entity="definition")] == ["definition_published"]


# --- rights --------------------------------------------------------------------------------


def test_staff_of_another_site_may_not_enter_data_and_nothing_is_written(
    subject, save, other_staff
):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        save(subject, "SCR", "DM", {("DM", 1): DM_ROW}, actor=other_staff)
    db.session.rollback()
    assert snapshot() == before and count(SubjectVisit) == 0


def test_a_monitor_may_not_enter_data(subject, save, monitor):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        save(subject, "SCR", "DM", {("DM", 1): DM_ROW}, actor=monitor)
    db.session.rollback()
    assert snapshot() == before


def test_a_deactivated_account_may_not_enter_data(subject, save, staff):
    staff.active = False
    db.session.commit()
    with pytest.raises(PermissionDenied):
        save(subject, "SCR", "DM", {("DM", 1): DM_ROW}, actor=staff)


def test_a_form_that_is_not_part_of_the_visit_is_not_found(subject, save):
    with pytest.raises(NotFound):
        save(subject, "BASE", "DM", {("DM", 1): DM_ROW})


def test_an_unknown_item_group_is_refused(subject, save):
    with pytest.raises(RuleViolation, match="Unknown item group VS"):
        save(subject, "SCR", "DM", {("VS", 1): {"WEIGHT": "70"}})


# --- definition versions -------------------------------------------------------------------


def test_the_definition_version_is_recorded_on_the_entry_and_in_every_event(subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): DM_ROW}).entry
    assert (entry.definition_version.version, entry.definition_version.study_oid) == (
        "1.0",
        "MINI",
    )
    assert {e.definition_version for e in events(entry.id)} == {"1.0"}
    (published,) = db.session.scalars(sa.select(DefinitionVersion))
    assert published.digest == load_study(STUDY).digest
    assert [e.new for e in events("MINI/1.0", entity="definition")] == [published.digest]


def test_a_definition_published_in_a_transaction_rolled_back_is_published_by_the_next_save(
    study, subject, save
):
    subjects.lock_subject(subject)  # as a save does: its SAVEPOINT nests in the transaction
    services.publish_definition(study)
    db.session.rollback()  # the record, created in that transaction, is gone
    entry = save(subject, "SCR", "DM", {("DM", 1): DM_ROW}).entry
    (published,) = db.session.scalars(sa.select(DefinitionVersion))
    assert entry.definition_version_id == published.id
    assert len(events("MINI/1.0", "definition_published", entity="definition")) == 1


def test_once_read_committed_the_published_definition_is_not_read_again(study, subject, save):
    save(subject, "SCR", "DM", {("DM", 1): DM_ROW})  # publishes it
    save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "71"}}, reason="typo")  # reads it
    read: list[str] = []

    def statement(_conn, _cursor, text, *_args) -> None:
        if "FROM definition_version" in text:
            read.append(text)

    sa.event.listen(db.engine, "before_cursor_execute", statement)
    try:
        entry = save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "72"}}, reason="typo").entry
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", statement)
    assert read == []
    assert entry.definition_version.version == "1.0"
    assert {e.definition_version for e in events(entry.id)} == {"1.0"}


def test_a_changed_definition_under_the_same_version_is_refused(study, subject, save):
    save(subject, "SCR", "DM", {("DM", 1): DM_ROW})
    changed = load_study(replace(STUDY, name="Mini study, amended"))
    with pytest.raises(RuntimeError, match="give the changed definition a new version"):
        services.publish_definition(changed)
    db.session.rollback()
    before = snapshot()
    with pytest.raises(RuntimeError, match="changed since it was published"):
        services.save_form(
            changed,
            subject,
            "SCR",
            "DM",
            {("DM", 1): {"WEIGHT": "72"}},
            actor=None,
            expected_version=1,
        )
    db.session.rollback()
    assert snapshot() == before


def test_a_new_definition_version_is_published_and_recorded_by_later_saves(subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): DM_ROW}).entry
    amended = load_study(replace(STUDY, name="Mini study, amended", version="1.1"))
    services.save_form(
        amended, subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "72"}}, actor=None, expected_version=1
    )
    db.session.commit()
    assert sorted(db.session.scalars(sa.select(DefinitionVersion.version))) == ["1.0", "1.1"]
    assert entry.definition_version.version == "1.1"
    change = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "item_changed", AuditEvent.entity_id == str(entry.id)
        )
    )
    assert (change.field, change.definition_version) == ("DM[1].WEIGHT", "1.1")
    assert change.actor.startswith("cli:")  # no account: the operator at the console
