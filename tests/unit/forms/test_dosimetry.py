"""Dosimetry (forms/iahprrt/dosimetry.py, DOSI): doses per GBq administered beside the
absolute doses, the IAH/IV ratio on normalised doses, cumulative kidney and red-marrow
doses over the 4 IV cycles and with the IAH cycle."""

from __future__ import annotations

from decimal import Decimal as D

from forms.iahprrt import dosimetry as ds
from tests.trial_definition import derivation, form

#: Screening's LUTATHERA cycles: the 3rd at a reduced activity.
CYCLES = [
    {"CYCLE": 1, "EXDOSE": D(7400)},
    {"CYCLE": 2, "EXDOSE": D(7400)},
    {"CYCLE": 3, "EXDOSE": D(3700)},
    {"CYCLE": 4, "EXDOSE": D(7400)},
]


def test_a_dose_per_gbq_divides_by_the_activity_in_gbq():
    assert ds.per_gbq(D("3.70"), D(7400)) == D("0.500")
    assert ds.per_gbq(D("0.30"), D(7400)) == D("0.041")  # marrow: 3 decimals kept
    assert ds.per_gbq(D("3.70"), None) is None
    assert ds.per_gbq(None, D(7400)) is None
    assert ds.per_gbq(D("3.70"), D(0)) is None


def test_each_iv_cycle_is_normalised_to_its_own_activity():
    # 3.7 Gy for 7.4 GBq and 1.85 Gy for 3.7 GBq are both 0.5 Gy/GBq
    doses = (D("3.70"), D("3.70"), D("1.85"), D("3.70"))
    assert ds.mean_iv_per_gbq(CYCLES, *doses) == D("0.500")
    # a cycle without its dose, or without its activity, is left out
    assert ds.mean_iv_per_gbq(CYCLES[:2], D("3.70"), D("7.40"), D("9"), None) == D("0.750")
    assert ds.mean_iv_per_gbq([], *doses) is None


def test_the_iah_iv_ratio_is_on_normalised_doses_not_on_absolute_ones():
    doses = (D("3.70"), D("3.70"), D("1.85"), D("3.70"))
    # IAH: 3.7 Gy for 5.55 GBq = 0.667 Gy/GBq; IV 0.5 Gy/GBq → 1.33 (absolute: 1.14)
    assert ds.ratio_per_gbq(D("3.70"), D(5550), CYCLES, *doses) == D("1.33")
    assert ds.ratio_per_gbq(D("3.70"), None, CYCLES, *doses) is None
    assert ds.ratio_per_gbq(D("3.70"), D(5550), CYCLES, None, None, None, None) is None


def test_the_dosimetry_form_derives_the_normalised_doses_from_the_activities_given():
    niah = derivation("DOSI", "ONIAH")
    assert niah.inputs == ("ODIAH", "THER.LUADM.ADMACT")
    assert niah.function({"ODIAH": D("2.96"), "THER.LUADM.ADMACT": D(7400)}) == D("0.400")
    ratio = derivation("DOSI", "DRATIO")
    assert "SCR.PRTX.LUT[]" in ratio.inputs and "THER.LUADM.ADMACT" in ratio.inputs
    values = {
        "DIAH": D("37"),
        "THER.LUADM.ADMACT": D(7400),
        "SCR.PRTX.LUT[]": CYCLES,
        "DIV1": D("18.5"),
        "DIV2": None,
        "DIV3": None,
        "DIV4": None,
    }
    assert ratio.function(values) == D("2.00")
    items = {item.oid: item for _, item in form("DOSI").items()}
    assert items["NIAH"].units == items["NIVMEAN"].units == "Gy/GBq"
    assert items["DIAH"].units == "Gy"


ORGANS = [
    {"ORGAN": "KIDNEYS", "ODIAH": D("2"), **{f"ODIV{n}": D("4") for n in range(1, 5)}},
    {"ORGAN": "MARROW", "ODIAH": D("0.2"), **{f"ODIV{n}": D("0.3") for n in range(1, 5)}},
]


def test_cumulative_kidney_and_marrow_doses_over_the_iv_cycles_and_with_the_iah_cycle():
    rows = {"THER.DOSI.ODOSE[]": ORGANS}
    assert derivation("DOSI", "KIDCUMIV").function(rows) == D("16.00")
    assert derivation("DOSI", "KIDCUM").function(rows) == D("18.00")
    assert derivation("DOSI", "BMCUMIV").function(rows) == D("1.20")
    assert derivation("DOSI", "BMCUM").function(rows) == D("1.40")


def test_a_cumulative_dose_waits_for_every_cycle():
    missing = [{**ORGANS[0], "ODIV3": None}]
    assert ds.organ_cumulative(ds.KIDNEYS, "Y", missing) is None
    assert ds.organ_cumulative(ds.MARROW, "Y", ORGANS[:1]) is None


def test_without_a_row_for_both_kidneys_the_more_exposed_kidney_counts():
    left = {"ORGAN": "KIDL", "ODIAH": D("1"), **{f"ODIV{n}": D("3") for n in range(1, 5)}}
    right = {"ORGAN": "KIDR", "ODIAH": D("1"), **{f"ODIV{n}": D("4") for n in range(1, 5)}}
    assert ds.organ_cumulative(ds.KIDNEYS, "Y", [left, right]) == D("17.00")
    assert ds.organ_cumulative(ds.KIDNEYS, "N", [left, right]) == D("16.00")
    assert ds.organ_cumulative(ds.KIDNEYS, "Y", [left]) is None  # one side only
