"""Repeating groups: rows added, blank rows ignored, a maximum, removal with a reason."""

from __future__ import annotations

import pytest

from ecrf.crf import services
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.records.models import ItemGroupRow, ItemValue
from tests.capture import changes, count, entry_of, events, last_seq, rows


def lesion(n: int, suvmax: str = "10") -> dict:
    return {"LESID": f"L{n}", "ORGAN": "LIVER", "SUVMAX": suvmax}


def test_rows_are_added_and_a_blank_new_row_is_ignored(study, subject, save):
    entry = save(subject, "BASE", "LES", {("LESION", 1): lesion(1)}).entry
    save(
        subject,
        "BASE",
        "LES",
        {("LESION", 2): lesion(2, "12.50"), ("LESION", 3): {"LESID": " ", "SUVMAX": ""}},
    )
    assert [
        (r["LESID"], str(r["SUVMAX"])) for r in rows(study, subject, "BASE", "LES", "LESION")
    ] == [
        ("L1", "10.00"),
        ("L2", "12.50"),
    ]
    assert count(ItemGroupRow) == 2
    assert [c[1] for c in changes(entry.id, "row_added")] == ["LESION[1]", "LESION[2]"]
    assert not [c for c in changes(entry.id) if c[1].startswith("LESION[3]")]


def test_a_required_item_of_a_row_is_checked_per_row_on_completion(subject, save):
    before = last_seq()
    with pytest.raises(services.ValidationFailed) as caught:
        save(
            subject,
            "BASE",
            "LES",
            {("LESION", 1): lesion(1), ("LESION", 2): {"SUVMAX": "3"}},
            complete=True,
        )
    db.session.rollback()
    assert [(i.group_oid, i.row_key, i.item_oid) for i in caught.value.issues] == [
        ("LESION", 2, "LESID")
    ]
    assert last_seq() == before and count(ItemGroupRow) == 0


def test_no_more_rows_than_the_group_allows(subject, save):
    save(subject, "BASE", "LES", {("LESION", n): lesion(n) for n in range(1, 5)})
    before = (last_seq(), count(ItemGroupRow))
    with pytest.raises(services.ValidationFailed) as caught:
        save(subject, "BASE", "LES", {("LESION", 5): lesion(5), ("LESION", 6): lesion(6)})
    db.session.rollback()
    assert [(i.group_oid, i.row_key, i.item_oid, i.message) for i in caught.value.issues] == [
        ("LESION", 0, None, "At most 5 rows.")
    ]
    assert (last_seq(), count(ItemGroupRow)) == before
    entry = save(subject, "BASE", "LES", {("LESION", 5): lesion(5)}).entry
    assert count(ItemGroupRow) == 5
    assert [c[1] for c in changes(entry.id, "row_added")][-1] == "LESION[5]"


def remove(study, subject, key, reason="Duplicate of lesion 1", version=None):
    entry = entry_of(subject, "BASE", "LES")
    return services.remove_row(
        study,
        subject,
        "BASE",
        "LES",
        "LESION",
        key,
        actor=None,
        reason=reason,
        expected_version=entry.version if version is None else version,
    )


def test_removing_a_row_needs_a_reason(study, subject, save):
    save(subject, "BASE", "LES", {("LESION", 1): lesion(1), ("LESION", 2): lesion(2)})
    before = (last_seq(), entry_of(subject, "BASE", "LES").version)
    with pytest.raises(RuleViolation) as caught:
        remove(study, subject, 2, reason="  ")
    db.session.rollback()
    assert caught.value.field == "reason"
    assert (last_seq(), entry_of(subject, "BASE", "LES").version) == before
    assert not any(r.removed for r in db.session.query(ItemGroupRow))


def test_a_removed_row_is_flagged_kept_with_its_values_and_audited(study, subject, save):
    entry = save(
        subject, "BASE", "LES", {("LESION", 1): lesion(1), ("LESION", 2): lesion(2, "7")}
    ).entry
    values_before = count(ItemValue)
    remove(study, subject, 2, reason=" Duplicate of lesion 1 ")
    db.session.commit()

    db.session.expire_all()
    row = db.session.query(ItemGroupRow).filter_by(group_oid="LESION", repeat_key=2).one()
    assert (row.removed, row.removed_reason) == (True, "Duplicate of lesion 1")
    assert {v.item_oid: v.value_text for v in row.values}["SUVMAX"] == "7.00"
    assert count(ItemValue) == values_before
    assert [r["LESID"] for r in rows(study, subject, "BASE", "LES", "LESION")] == ["L1"]
    assert entry_of(subject, "BASE", "LES").version == 2
    (removed,) = events(entry.id, "row_removed")
    assert (removed.field, removed.reason, removed.definition_version) == (
        "LESION[2]",
        "Duplicate of lesion 1",
        "1.0",
    )
    assert [e.new for e in events(entry.id, "form_saved")] == ["1", "2"]

    with pytest.raises(RuleViolation, match="no such row"):
        remove(study, subject, 2)


def test_removing_a_row_on_a_stale_version_is_refused(study, subject, save):
    save(subject, "BASE", "LES", {("LESION", 1): lesion(1), ("LESION", 2): lesion(2)})
    save(subject, "BASE", "LES", {("LESION", 1): {"SUVMAX": "11"}})
    before = last_seq()
    with pytest.raises(services.StaleEntry):
        remove(study, subject, 2, version=1)
    db.session.rollback()
    assert last_seq() == before
    assert not any(r.removed for r in db.session.query(ItemGroupRow))


def test_a_non_repeating_group_has_no_rows_to_remove(study, subject, save):
    save(subject, "BASE", "LES", {("ORG", 1): {"LIVSUV": "2"}})
    with pytest.raises(RuleViolation, match="Only rows of repeating groups"):
        services.remove_row(
            study, subject, "BASE", "LES", "ORG", 1, actor=None, reason="x", expected_version=1
        )


def test_values_sent_for_a_removed_row_do_not_bring_it_back(study, subject, save):
    save(subject, "BASE", "LES", {("LESION", 1): lesion(1), ("LESION", 2): lesion(2, "7")})
    remove(study, subject, 2)
    db.session.commit()
    before = (last_seq(), count(ItemValue))
    with pytest.raises(services.ValidationFailed) as caught:
        save(subject, "BASE", "LES", {("LESION", 2): lesion(3, "9")})
    db.session.rollback()
    assert [(i.group_oid, i.row_key) for i in caught.value.issues] == [("LESION", 2)]
    assert (last_seq(), count(ItemValue)) == before
    row = db.session.query(ItemGroupRow).filter_by(group_oid="LESION", repeat_key=2).one()
    assert {v.item_oid: v.value_text for v in row.values}["SUVMAX"] == "7.00"


def test_the_derived_values_of_a_removed_row_stay_as_they_were(study, subject, save):
    save(
        subject,
        "BASE",
        "LES",
        {("ORG", 1): {"LIVSUV": "2"}, ("LESION", 1): lesion(1), ("LESION", 2): lesion(2, "4")},
    )
    remove(study, subject, 2)
    db.session.commit()
    entry = save(subject, "BASE", "LES", {("ORG", 1): {"LIVSUV": "4"}}).entry
    assert [c[1] for c in changes(entry.id, "item_derived") if c[2] is not None] == [
        "LESION[1].TLR"
    ]
