"""Edit checks: REJECT blocks the save at the row's item; WARN opens a finding until resolved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.crf import services
from ecrf.extensions import db
from ecrf.records.models import Finding, FindingStatus, ItemGroupRow, ItemValue
from tests.capture import count, entry_of, events, last_seq


def findings() -> list[Finding]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Finding).order_by(Finding.id)))


def test_suvmean_above_suvmax_is_rejected_at_that_rows_item(study, subject, save):
    entry = save(
        subject, "BASE", "LES", {("LESION", 1): {"LESID": "L1", "SUVMAX": "10", "SUVMEAN": "6"}}
    ).entry
    before = (last_seq(), count(ItemValue), count(ItemGroupRow), entry.version)
    with pytest.raises(services.ValidationFailed) as caught:
        save(
            subject,
            "BASE",
            "LES",
            {("LESION", 2): {"LESID": "L2", "SUVMAX": "4.10", "SUVMEAN": "4.20"}},
        )
    db.session.rollback()
    (issue,) = caught.value.issues
    assert (issue.group_oid, issue.row_key, issue.item_oid, issue.severity) == (
        "LESION",
        2,
        "SUVMEAN",
        "error",
    )
    assert issue.message == "SUVmean cannot exceed SUVmax."
    db.session.expire_all()
    after = (
        last_seq(),
        count(ItemValue),
        count(ItemGroupRow),
        entry_of(subject, "BASE", "LES").version,
    )
    assert after == before
    assert findings() == []


def test_a_low_haemoglobin_without_an_anaemia_event_opens_a_finding_until_one_is_recorded(
    study, subject, save, staff
):
    lb = save(subject, "SCR", "LB", {("LB", 1): {"HGB": "7.5"}}).entry
    (finding,) = findings()
    assert (
        finding.entry_id,
        finding.group_oid,
        finding.repeat_key,
        finding.item_oid,
        finding.check_name,
        finding.severity,
        finding.status,
    ) == (lb.id, "LB", 1, "HGB", "HGB_GRADE3_AE", "warn", FindingStatus.OPEN)
    assert "record an anaemia adverse event" in finding.message
    (opened,) = events(finding.id, entity="finding")
    assert (opened.action, opened.field, opened.new, opened.actor_id) == (
        "finding_opened",
        "LB[1].HGB",
        finding.message,
        staff.id,
    )

    save(subject, "LOGS", "AE", {("AE", 1): {"AETERM": "Nausea", "AESTDAT": "2024-05"}})
    assert [f.status for f in findings()] == [FindingStatus.OPEN]

    save(subject, "LOGS", "AE", {("AE", 2): {"AETERM": "Anaemia grade 3", "AESTDAT": "2024-05"}})
    (finding,) = findings()
    assert finding.status is FindingStatus.RESOLVED and finding.resolved_at is not None
    assert [(e.action, e.old) for e in events(finding.id, entity="finding")] == [
        ("finding_opened", None),
        ("finding_resolved", finding.message),
    ]


def test_a_finding_reopens_when_the_anaemia_event_row_is_removed(study, subject, save):
    save(subject, "LOGS", "AE", {("AE", 1): {"AETERM": "Anaemia", "AESTDAT": "2024-05"}})
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "7.5"}})
    assert findings() == []
    ae = entry_of(subject, "LOGS", "AE")
    services.remove_row(
        study,
        subject,
        "LOGS",
        "AE",
        "AE",
        1,
        actor=None,
        reason="Entered in error",
        expected_version=ae.version,
    )
    db.session.commit()
    (finding,) = findings()
    assert (finding.item_oid, finding.status) == ("HGB", FindingStatus.OPEN)
    assert [e.action for e in events(finding.id, entity="finding")] == ["finding_opened"]
    assert [e.field for e in events(ae.id, "row_removed")] == ["AE[1]"]


def test_a_haemoglobin_at_or_above_8_opens_no_finding(subject, save):
    entry = save(subject, "SCR", "LB", {("LB", 1): {"HGB": "8.0"}}).entry
    assert findings() == []
    assert [e.new for e in events(entry.id, "item_entered")] == ["8.0"]
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "finding_opened"))
        == 0
    )


def test_an_adverse_event_ending_before_it_started_opens_a_finding_at_the_end_date(subject, save):
    ae = save(
        subject,
        "LOGS",
        "AE",
        {
            ("AE", 1): {"AETERM": "Nausea", "AESTDAT": "2024-05-17", "AEENDAT": "2024-05-20"},
            ("AE", 2): {"AETERM": "Rash", "AESTDAT": "2024-05-17", "AEENDAT": "2024-05-10"},
        },
    ).entry
    (finding,) = findings()
    assert (finding.entry_id, finding.group_oid, finding.repeat_key, finding.item_oid) == (
        ae.id,
        "AE",
        2,
        "AEENDAT",
    )
    assert finding.message == "The end date is before the start date."

    save(subject, "LOGS", "AE", {("AE", 2): {"AEENDAT": "2024-05-19"}})
    assert [f.status for f in findings()] == [FindingStatus.RESOLVED]
    assert [e.action for e in events(finding.id, entity="finding")] == [
        "finding_opened",
        "finding_resolved",
    ]


def test_a_finding_is_not_opened_twice_by_later_saves(subject, save):
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "7.5"}})
    save(subject, "SCR", "LB", {("LB", 1): {"LBDAT": "2024-05-17"}})
    (finding,) = findings()
    assert [e.action for e in events(finding.id, entity="finding")] == ["finding_opened"]
