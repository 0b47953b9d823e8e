"""Items with several units through the one write path: the unit kept with the value, each
unit's ranges at the field, rules reading the value converted to the standard unit, unit
changes audited, and the audit trail reconciled with the stored units."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecrf.crf import services
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.data import SubjectData
from ecrf.records.models import ItemGroupRow, ItemValue
from ecrf.study import subjects
from tests.capture import changes, entry_of, refused, snapshot, value, where
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)
SAMPLE = (CONSENT + timedelta(days=2)).isoformat()


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


def verify_data() -> list[str]:
    """What ``ecrf audit verify`` finds, in words."""
    return [str(p) for p in verify_trail().problems.shown]


def stored(subject, form_oid: str, item_oid: str) -> tuple[str | None, str | None]:
    """(value_text, unit) as stored."""
    db.session.expire_all()
    entry = entry_of(subject, "SCR", form_oid)
    return db.session.execute(
        sa.select(ItemValue.value_text, ItemValue.unit)
        .join(ItemGroupRow)
        .where(ItemGroupRow.entry_id == entry.id, ItemValue.item_oid == item_oid)
    ).one()


def entered(study, subject, form_oid: str, group_oid: str, item_oid: str):
    db.session.expire_all()
    data = SubjectData.load(study, subject)
    return data.entry("SCR", 1, form_oid).rows[(group_oid, 1)].entered.get(item_oid)


def hem(**values: str) -> dict:
    return {("LBHEM", 1): {"LBDAT": SAMPLE, **values}}


# --- reading: converted for rules, as entered for people ---------------------------------


def test_clearance_is_the_same_for_a_creatinine_in_umol_per_l_and_in_mg_per_dl(study, sites, staff):
    first = subjects.register_subject(sites["BDX"], actor=staff)
    second = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    in_umol = {"CREAT": "88.42", "CREAT.unit": "umol/L", "CREATULN": "106"}
    in_mg = {"CREAT": "1.00", "CREAT.unit": "mg/dL", "CREATULN": "1.20"}
    save_screening(study, first, staff, CONSENT, {"LBCHEM": in_umol})
    save_screening(study, second, staff, CONSENT, {"LBCHEM": in_mg})
    clearance = value(study, first, "SCR.LBCHEM.CRCL")
    assert clearance is not None and clearance == value(study, second, "SCR.LBCHEM.CRCL")
    # rules read µmol/L; the value and unit entered are kept as typed
    assert value(study, second, "SCR.LBCHEM.CREAT") == Decimal("88.42")
    assert value(study, second, "SCR.LBCHEM.CREATULN") == Decimal("1.20") * Decimal("88.42")
    assert stored(second, "LBCHEM", "CREAT") == ("1.00", "mg/dL")
    assert stored(second, "LBCHEM", "CREATULN") == ("1.20", "mg/dL")  # follows the value's
    assert stored(first, "LBCHEM", "CREAT") == ("88.42", "umol/L")
    assert entered(study, second, "LBCHEM", "LBCHEM", "CREAT") == (Decimal("1.00"), "mg/dL")
    assert verify_data() == []


def test_a_grade_reads_the_count_converted_from_g_per_l(study, subject, save):
    # 0.45 G/L = 450/mm³: neutrophil count decreased, grade 4 (< 500/mm³)
    save(subject, "SCR", "LBHEM", hem(NEUT="0.45", **{"NEUT.unit": "10*9/L"}, NEUTLLN="1.8"))
    assert value(study, subject, "SCR.LBHEM.NEUT") == Decimal(450)
    assert value(study, subject, "SCR.LBHEM.NEUTLLN") == Decimal(1800)
    assert value(study, subject, "SCR.LBHEM.NEUTGR") == 4
    assert stored(subject, "LBHEM", "NEUT") == ("0.45", "10*9/L")


def test_a_value_submitted_without_a_unit_is_in_the_standard_unit(study, subject, save):
    # callers that do not deal in units: the standard unit, stored explicitly
    entry = save(subject, "SCR", "LBHEM", hem(HGB="12.5")).entry
    assert value(study, subject, "SCR.LBHEM.HGB") == Decimal("12.5")
    assert stored(subject, "LBHEM", "HGB") == ("12.5", "g/dL")
    assert changes(entry.id)[-1] == ("item_entered", "LBHEM[1].HGB", None, "12.5 g/dL", None)
    # later, without a unit again: the value keeps the unit it has
    save(subject, "SCR", "LBHEM", hem(HGB="125", **{"HGB.unit": "g/L"}))
    save(subject, "SCR", "LBHEM", hem(HGB="126"))
    assert stored(subject, "LBHEM", "HGB") == ("126", "g/L")


def test_a_value_stored_without_a_unit_is_read_in_the_standard_unit(study, subject, save):
    # values stored before the item had several units have no unit
    save(subject, "SCR", "LBHEM", hem(HGB="12.5"))
    db.session.execute(sa.update(ItemValue).where(ItemValue.item_oid == "HGB").values(unit=None))
    db.session.commit()
    assert value(study, subject, "SCR.LBHEM.HGB") == Decimal("12.5")
    assert entered(study, subject, "LBHEM", "LBHEM", "HGB") == (Decimal("12.5"), "g/dL")
    # the same value resubmitted in its standard unit is no change
    result = save(subject, "SCR", "LBHEM", hem(HGB="12.5", **{"HGB.unit": "g/dL"}))
    assert result.changes == 0
    assert stored(subject, "LBHEM", "HGB") == ("12.5", None)


# --- entry: each unit's ranges, a unit required ------------------------------------------


def test_each_unit_has_its_own_hard_and_soft_range_at_the_field(subject, save):
    before = snapshot()
    # 3 neutrophils per mm³ is 3 G/L typed in the wrong unit
    failed = refused(save, subject, "SCR", "LBHEM", hem(NEUT="3", **{"NEUT.unit": "/mm3"}))
    assert where(failed.issues) == [("LBHEM", 1, "NEUT", "error")]
    assert failed.issues[0].message == (
        "3 /mm3 is impossible here (expected 10 to 200000 /mm3): was it reported in G/L?"
        " Please check the unit."
    )
    # 125 g/dL is haemoglobin in g/L with the wrong unit chosen
    failed = refused(save, subject, "SCR", "LBHEM", hem(HGB="125", **{"HGB.unit": "g/dL"}))
    assert failed.issues[0].message == (
        "125.0 g/dL is impossible here (expected 3 to 25 g/dL): was it reported in g/L?"
        " Please check the unit."
    )
    assert snapshot() == before
    # in g/L it is plausible; 95 g/L is below the usual range: saved with a warning
    result = save(subject, "SCR", "LBHEM", hem(HGB="95", **{"HGB.unit": "g/L"}))
    assert [(w.item_oid, w.severity, w.message) for w in result.warnings] == [
        ("HGB", "warning", "95 g/L is outside the usual 120 to 170 g/L; please check.")
    ]


def test_a_limit_is_checked_against_the_ranges_of_its_values_unit(subject, save):
    failed = refused(
        save, subject, "SCR", "LBHEM", hem(HGB="125", **{"HGB.unit": "g/L"}, HGBLLN="12")
    )
    assert [(i.item_oid, i.message) for i in failed.issues] == [
        (
            "HGBLLN",
            "12 g/L is impossible here (expected 80 to 160 g/L): was it reported in g/dL?"
            " Please check the unit.",
        )
    ]


def test_a_value_without_its_unit_is_refused_at_the_field_and_nothing_is_written(subject, save):
    before = snapshot()
    failed = refused(save, subject, "SCR", "LBHEM", hem(PLAT="180", **{"PLAT.unit": ""}))
    assert [(i.item_oid, i.message) for i in failed.issues] == [
        ("PLAT", "Choose the unit of this value.")
    ]
    failed = refused(save, subject, "SCR", "LBHEM", hem(PLAT="180", **{"PLAT.unit": "G/L"}))
    assert failed.issues[0].message == "G/L is not a unit of this item: choose /mm3, G/L."
    failed = refused(save, subject, "SCR", "LBHEM", hem(**{"PLATLLN": "150", "PLAT.unit": ""}))
    assert [(i.item_oid, i.message) for i in failed.issues] == [
        ("PLATLLN", "Choose the unit of platelets: this value is in it too.")
    ]
    assert snapshot() == before


def test_a_missing_data_code_needs_no_unit(study, subject, save):
    save(subject, "SCR", "LBHEM", hem(LYM="ND", **{"LYM.unit": ""}))
    assert stored(subject, "LBHEM", "LYM") == (None, None)


# --- changes: the unit is part of the value ----------------------------------------------


def test_a_unit_change_on_a_complete_form_needs_a_reason_and_is_audited(study, subject, staff):
    entry = save_screening(study, subject, staff, CONSENT, forms=("LBHEM",))["LBHEM"].entry
    entered_hgb = [c for c in changes(entry.id) if c[1] == "LBHEM[1].HGB"]
    assert entered_hgb == [("item_entered", "LBHEM[1].HGB", None, "12.5 g/dL", None)]

    def change(reason=None):
        return services.save_form(
            study,
            subject,
            "SCR",
            "LBHEM",
            hem(HGB="125", **{"HGB.unit": "g/L"}),
            actor=staff,
            expected_version=entry.version,
            reason=reason,
        )

    before = snapshot()
    failed = refused(change)
    assert failed.form_errors == ["This form is complete: give the reason for the change."]
    assert snapshot() == before
    change("The laboratory reports in g/L")
    db.session.commit()
    assert changes(entry.id)[-1] == (
        "item_changed",
        "LBHEM[1].HGB",
        "12.5 g/dL",
        "125 g/L",
        "The laboratory reports in g/L",
    )
    assert stored(subject, "LBHEM", "HGB") == ("125", "g/L")
    assert value(study, subject, "SCR.LBHEM.HGB") == Decimal("12.5")
    assert verify_data() == []


def test_changing_only_the_unit_of_an_unchanged_number_is_a_change(study, subject, save):
    save(subject, "SCR", "LBHEM", hem(WBC="4.5", **{"WBC.unit": "10*9/L"}))
    result = save(subject, "SCR", "LBHEM", hem(WBC="4500", **{"WBC.unit": "/mm3"}))
    assert result.changes == 1
    result = save(subject, "SCR", "LBHEM", hem(WBC="4500", **{"WBC.unit": "/mm3"}))
    assert result.changes == 0
    # a number kept and only its unit changed
    failed = refused(save, subject, "SCR", "LBHEM", hem(WBC="4500", **{"WBC.unit": "10*9/L"}))
    assert failed.issues[0].message == (
        "4500 G/L is impossible here (expected 0.1 to 500 G/L): was it reported in /mm3?"
        " Please check the unit."
    )
    assert value(study, subject, "SCR.LBHEM.WBC") == Decimal(4500)
    # the same number in another unit: 100 µmol/L, then 100 mg/dL refused (hard range)
    creat = {"CREAT": "100", "CREAT.unit": "umol/L"}
    entry = save(subject, "SCR", "LBCHEM", {("LBCHEM", 1): creat}).entry
    failed = refused(
        save, subject, "SCR", "LBCHEM", {("LBCHEM", 1): creat | {"CREAT.unit": "mg/dL"}}
    )
    assert failed.issues[0].message == (
        "100 mg/dL is impossible here (expected 0.1 to 23 mg/dL): was it reported in µmol/L?"
        " Please check the unit."
    )
    save(subject, "SCR", "LBCHEM", {("LBCHEM", 1): {"CREAT": "1.13", "CREAT.unit": "mg/dL"}})
    assert changes(entry.id)[-1] == (
        "item_changed",
        "LBCHEM[1].CREAT",
        "100 umol/L",
        "1.13 mg/dL",
        None,
    )


def test_the_audit_check_sees_a_unit_changed_behind_the_write_path(study, subject, save):
    save(subject, "SCR", "LBCHEM", {("LBCHEM", 1): {"CREAT": "1.00", "CREAT.unit": "mg/dL"}})
    assert verify_data() == []
    db.session.execute(
        sa.update(ItemValue).where(ItemValue.item_oid == "CREAT").values(unit="umol/L")
    )
    db.session.commit()
    problems = verify_data()
    assert any("'1.00 umol/L'" in p and "'1.00 mg/dL'" in p for p in problems), problems


def test_the_submitted_rows_name_units_under_unit_keys():
    assert services.unit_key("CREAT") == "CREAT.unit"
