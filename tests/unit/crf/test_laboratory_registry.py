"""Lab forms that name their laboratory: values taken in the units the site's registry
gives, limits filled from it for the sample (date, sex, age), a limit other than the
registry's only with a reason, and values typed in another unit caught at their field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.crf.save.laboratory import MESSAGES
from ecrf.extensions import db
from ecrf.laboratories import services as registry
from ecrf.laboratories.services import RangeInput
from ecrf.records.models import ItemGroupRow, ItemValue
from tests.capture import entry_of, refused, snapshot, where
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)
SAMPLE = (CONSENT + timedelta(days=2)).isoformat()
LAB = "CHU Bordeaux – Biologie"
#: The registry's ranges hold from this day.
SINCE = CONSENT + timedelta(days=2)


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def man(study, subject, staff):
    """BDX-001: a man of 68, with his consent and demographics."""
    save_screening(study, subject, staff, CONSENT, forms=("IC", "DM"))
    db.session.commit()
    return subject


@pytest.fixture
def laboratory(study, sites):
    """BDX's laboratory: counts in G/L, haemoglobin in g/L (men 130, women 120), bilirubin
    in µmol/L, prothrombin time in seconds, from ``SINCE``."""
    lab = registry.add_laboratory(sites["BDX"], LAB, actor=None)
    ranges = [
        {"testcd": "NEUT", "unit": "10*9/L", "low": "1.8"},
        {"testcd": "HGB", "unit": "g/L", "low": "130", "sex": "M"},
        {"testcd": "HGB", "unit": "g/L", "low": "120", "sex": "F"},
        {"testcd": "PT", "unit": "s", "high": "13.0"},
    ]
    for typed in ranges:
        registry.add_range(
            study, lab, RangeInput(valid_from=SINCE.isoformat(), **typed), actor=None
        )
    db.session.commit()
    return lab


def hem(**values: str) -> dict:
    return {("LBHEM", 1): {"LBDAT": SAMPLE, "LBNAM": LAB, **values}}


def stored(subject, form_oid: str, item_oid: str) -> tuple[str | None, str | None]:
    db.session.expire_all()
    entry = entry_of(subject, "SCR", form_oid)
    return db.session.execute(
        sa.select(ItemValue.value_text, ItemValue.unit)
        .join(ItemGroupRow)
        .where(ItemGroupRow.entry_id == entry.id, ItemValue.item_oid == item_oid)
    ).one_or_none() or (None, None)


def test_values_are_taken_in_the_laboratorys_units_and_limits_filled(man, laboratory, save):
    # no unit chosen, no limit typed: the registry gives both
    save(man, "SCR", "LBHEM", hem(NEUT="2.5", NEUTLLN="", HGB="142", HGBLLN=""))
    assert stored(man, "LBHEM", "NEUT") == ("2.5", "10*9/L")
    assert stored(man, "LBHEM", "NEUTLLN") == ("1.8", "10*9/L")
    assert stored(man, "LBHEM", "HGB") == ("142", "g/L")
    assert stored(man, "LBHEM", "HGBLLN") == ("130", "g/L")  # the man's
    assert stored(man, "LBHEM", "LBNAM") == (LAB, None)


def test_the_laboratorys_unit_wins_over_the_unit_list(man, laboratory, save):
    # the page's list still showed the standard unit: the laboratory reports G/L
    save(man, "SCR", "LBHEM", hem(NEUT="2.5", **{"NEUT.unit": "/mm3"}))
    assert stored(man, "LBHEM", "NEUT") == ("2.5", "10*9/L")


def test_no_limit_is_filled_for_a_sample_before_the_range_holds(man, laboratory, save):
    before = (SINCE - timedelta(days=1)).isoformat()
    rows = hem(NEUT="2500", NEUTLLN="")  # nor a unit: the standard one
    rows[("LBHEM", 1)]["LBDAT"] = before
    save(man, "SCR", "LBHEM", rows)
    assert stored(man, "LBHEM", "NEUTLLN") == (None, None)


def test_a_limit_other_than_the_registrys_needs_a_reason(man, laboratory, save):
    before = snapshot()
    failed = refused(save, man, "SCR", "LBHEM", hem(NEUT="2.5", NEUTLLN="1.5"))
    assert where(failed.issues) == [("LBHEM", 1, "NEUTLLN", "error")]
    assert failed.issues[0].message == MESSAGES["differs"].format(
        laboratory=LAB, expected="1.8", unit="G/L"
    )
    assert snapshot() == before
    # the registry's own value needs none
    save(man, "SCR", "LBHEM", hem(NEUT="2.5", NEUTLLN="1.80"))
    # with a reason: saved, and the reason kept in the trail
    save(man, "SCR", "LBHEM", hem(NEUTLLN="1.5"), reason="Range printed on this report")
    assert stored(man, "LBHEM", "NEUTLLN") == ("1.5", "10*9/L")
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.field.like("%NEUTLLN"), AuditEvent.action == "item_changed")
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert (event.old, event.new, event.reason) == (
        "1.80 10*9/L",
        "1.5 10*9/L",
        "Range printed on this report",
    )


def test_a_laboratory_outside_the_sites_registry_is_refused_at_its_field(man, laboratory, save):
    rows = hem(NEUT="2500")
    rows[("LBHEM", 1)]["LBNAM"] = "Laboratoire Cerballiance"
    failed = refused(save, man, "SCR", "LBHEM", rows)
    assert where(failed.issues) == [("LBHEM", 1, "LBNAM", "error")]
    assert failed.issues[0].message == (
        f"Laboratoire Cerballiance is not a laboratory of this site. Choose one of: {LAB}."
    )


def test_a_complete_lab_form_names_its_laboratory_where_the_site_declares_some(
    man, laboratory, save
):
    rows = hem(NEUT="2.5")
    del rows[("LBHEM", 1)]["LBNAM"]
    failed = refused(save, man, "SCR", "LBHEM", rows, complete=True)
    assert ("LBHEM", 1, "LBNAM", "error") in where(failed.issues)
    assert MESSAGES["choose"] in [i.message for i in failed.issues]


def test_a_site_without_laboratories_names_its_laboratory_freely(man, save):
    save(man, "SCR", "LBHEM", hem(NEUT="2500", NEUTLLN="1800"))
    assert stored(man, "LBHEM", "LBNAM") == (LAB, None)
    assert stored(man, "LBHEM", "NEUT") == ("2500", "/mm3")


# --- a value typed in another unit, caught at its field -----------------------------------


@pytest.mark.parametrize(
    ("count", "caught"), [("9", True), ("1.8", True), ("10", False), ("2500", False)]
)
def test_a_count_per_mm3_too_small_to_be_one_asks_whether_it_was_in_g_per_l(
    man, save, count, caught
):
    # the laboratory reports per mm³ (no registry: chosen beside the value)
    rows = hem(NEUT=count, **{"NEUT.unit": "/mm3"})
    if not caught:
        save(man, "SCR", "LBHEM", rows)
        return
    failed = refused(save, man, "SCR", "LBHEM", rows)
    assert where(failed.issues) == [("LBHEM", 1, "NEUT", "error")]
    if count == "9":
        assert failed.issues[0].message == (
            "9 /mm3 is impossible here (expected 10 to 200000 /mm3): was it reported in G/L?"
            " Please check the unit."
        )


@pytest.mark.parametrize(("seconds", "caught"), [("60.0", False), ("60.1", True), ("85", True)])
def test_a_prothrombin_ratio_typed_as_a_time_in_seconds_is_caught(
    man, laboratory, save, seconds, caught
):
    rows = {("COAG", 1): {"LBDAT": SAMPLE, "LBNAM": LAB, "PT": seconds, "INR": "1.0"}}
    if not caught:
        save(man, "SCR", "COAG", rows, reason="Prolonged: checked with the laboratory")
        return
    failed = refused(save, man, "SCR", "COAG", rows)
    assert where(failed.issues) == [("COAG", 1, "PT", "error")]


def test_the_prothrombin_ratio_in_percent_has_its_own_item(man, save):
    rows = {("COAG", 1): {"LBDAT": SAMPLE, "PTPCT": "85", "PTPCTLLN": "70", "INR": "1.1"}}
    save(man, "SCR", "COAG", rows)
    assert stored(man, "COAG", "PTPCT") == ("85", None)


def test_a_form_keeps_the_name_of_a_laboratory_renamed_since(man, laboratory, save):
    save(man, "SCR", "LBHEM", hem(NEUT="2.5"))
    registry.rename_laboratory(laboratory, "CHU Bordeaux – Biologie (Pellegrin)", actor=None)
    db.session.commit()
    # the page resubmits the name as entered: accepted, the other values still saved
    save(man, "SCR", "LBHEM", hem(NEUT="2500", **{"NEUT.unit": "/mm3"}))
    assert stored(man, "LBHEM", "LBNAM") == (LAB, None)
    assert stored(man, "LBHEM", "NEUT") == ("2500", "/mm3")
