"""Derivations: computed at each save from the form, its rows and other forms; audited."""

from __future__ import annotations

from decimal import Decimal

from ecrf.auth.models import User
from ecrf.extensions import db
from ecrf.records.models import FormEntry, Subject
from tests.capture import changes, events, rows, value


def derived(entry_id) -> list[tuple]:
    return [(e.field, e.old, e.new, e.reason) for e in events(entry_id, "item_derived")]


def test_bmi_is_derived_from_weight_and_height_and_follows_them(study, subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "70", "HEIGHT": "175"}}).entry
    assert value(study, subject, "SCR.DM.BMI") == Decimal("22.9")
    save(subject, "SCR", "DM", {("DM", 1): {"HEIGHT": "160"}})
    assert value(study, subject, "SCR.DM.BMI") == Decimal("27.3")
    save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": ""}})
    assert value(study, subject, "SCR.DM.BMI") is None
    formula = "derived: weight / (height in m)²"
    assert derived(entry.id) == [
        ("DM[1].BMI", None, "22.9", formula),
        ("DM[1].BMI", "22.9", "27.3", formula),
        ("DM[1].BMI", "27.3", None, formula),
    ]
    stored = [v for r in entry.rows for v in r.values if v.item_oid == "BMI"]
    assert [v.derived for v in stored] == [True]


def test_a_typed_value_for_a_derived_item_is_ignored(study, subject, save):
    entry = save(
        subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "70", "HEIGHT": "175", "BMI": "99"}}
    ).entry
    assert value(study, subject, "SCR.DM.BMI") == Decimal("22.9")
    assert "DM[1].BMI" not in [c[1] for c in changes(entry.id, "item_entered")]


def test_age_is_derived_across_forms_and_follows_a_later_change_of_consent_date(
    study, subject, save, staff
):
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-05-17"}})
    dm = save(subject, "SCR", "DM", {("DM", 1): {"BRTHYM": "1960-08"}}).entry
    assert value(study, subject, "SCR.DM.AGE") == 63

    enr = save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-09-01"}}).entry
    assert value(study, subject, "SCR.DM.AGE") == 64
    formula = "derived: whole years from birth month to the date of consent"
    assert derived(dm.id) == [
        ("DM[1].AGE", None, "63", formula),
        ("DM[1].AGE", "63", "64", formula),
    ]
    (change,) = [e for e in events(dm.id, "item_derived") if e.old == "63"]
    assert (change.actor_id, change.definition_version) == (staff.id, "1.0")
    # Recorded against the Demographics entry, though Enrolment was the form saved.
    assert derived(enr.id) == []


def test_a_save_in_a_new_session_derives_into_another_forms_entry(study, subject, save, staff):
    """A request's session holds no entry: the other entries are read as plain rows, and
    the one a derivation writes into becomes an ORM object only then."""
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-05-17"}})
    dm_id = save(subject, "SCR", "DM", {("DM", 1): {"BRTHYM": "1960-08"}}).entry.id
    subject_id, staff_id = subject.id, staff.id
    db.session.remove()  # as at the start of a request
    subject, staff = db.session.get(Subject, subject_id), db.session.get(User, staff_id)
    assert not any(isinstance(o, FormEntry) for o in db.session.identity_map.values())
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-09-01"}}, actor=staff, version=1)
    assert value(study, subject, "SCR.DM.AGE") == 64
    assert [(f, old, new) for f, old, new, _ in derived(dm_id)] == [
        ("DM[1].AGE", None, "63"),
        ("DM[1].AGE", "63", "64"),
    ]


def test_age_waits_for_both_inputs(study, subject, save):
    dm = save(subject, "SCR", "DM", {("DM", 1): {"BRTHYM": "1960"}}).entry  # no month: no age
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-05-17"}})
    assert value(study, subject, "SCR.DM.AGE") is None
    assert derived(dm.id) == []
    save(subject, "SCR", "DM", {("DM", 1): {"BRTHYM": "1960-05"}})
    assert value(study, subject, "SCR.DM.AGE") == 64
    assert [(f, old, new) for f, old, new, _ in derived(dm.id)] == [("DM[1].AGE", None, "64")]


def test_the_tumour_to_liver_ratio_is_derived_per_lesion_row(study, subject, save):
    entry = save(
        subject,
        "BASE",
        "LES",
        {
            ("ORG", 1): {"LIVSUV": "2"},
            ("LESION", 1): {"LESID": "L1", "SUVMAX": "10"},
            ("LESION", 2): {"LESID": "L2", "SUVMAX": "3"},
            ("LESION", 3): {"LESID": "L3"},
        },
    ).entry
    assert [r.get("TLR") for r in rows(study, subject, "BASE", "LES", "LESION")] == [
        Decimal("5.00"),
        Decimal("1.50"),
        None,
    ]
    save(subject, "BASE", "LES", {("ORG", 1): {"LIVSUV": "4"}})
    assert [r.get("TLR") for r in rows(study, subject, "BASE", "LES", "LESION")] == [
        Decimal("2.50"),
        Decimal("0.75"),
        None,
    ]
    assert [(f, old, new) for f, old, new, _ in derived(entry.id)] == [
        ("LESION[1].TLR", None, "5.00"),
        ("LESION[2].TLR", None, "1.50"),
        ("LESION[1].TLR", "5.00", "2.50"),
        ("LESION[2].TLR", "1.50", "0.75"),
    ]
