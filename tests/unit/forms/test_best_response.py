"""RECIST 1.1 best overall response with confirmation, and the baseline imaging window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from forms.iahprrt import recist
from tests.trial_definition import check_named, derivation

CT = date(2025, 1, 6)
MRI = date(2025, 1, 10)  # baseline date: the later of the two
M3 = date(2025, 5, 5)


def best(*assessments, ct=CT, mri=MRI):
    """Best response and its basis over (visit, date, response) assessments."""
    visits = tuple(v for v, _, _ in assessments)
    values = [x for _, d, r in assessments for x in (d, r)]
    return (
        recist.best_overall_response(visits, ct, mri, *values),
        recist.best_response_basis(visits, ct, mri, *values),
    )


def test_a_partial_response_confirmed_28_days_later_is_the_best_response():
    code, why = best(("M3", M3, "PR"), ("M6", M3 + timedelta(days=28), "PR"))
    assert code == "PR"
    assert "confirmed at M6" in why and "28 days later" in why


def test_a_partial_response_followed_27_days_later_is_not_confirmed():
    code, why = best(("M3", M3, "PR"), ("M6", M3 + timedelta(days=27), "PR"))
    assert code == "SD"
    assert "not confirmed" in why


@pytest.mark.parametrize(
    ("first", "second", "days", "expected"),
    [
        ("CR", "CR", 28, "CR"),
        ("CR", "CR", 27, "SD"),
        ("PR", "CR", 28, "PR"),  # RECIST 1.1 table 3: PR then CR → PR
        ("CR", "PR", 28, "PR"),  # the first "CR" was a PR with residual disease
        ("PR", "SD", 90, "SD"),
        ("PR", "PD", 90, "SD"),  # SD duration met at the PR
        ("SD", "PD", 90, "SD"),
        ("CR", "NE", 90, "SD"),
        ("NE", "NE", 90, "NE"),
    ],
)
def test_recist_table_3_combinations(first, second, days, expected):
    code, _ = best(("M3", M3, first), ("M6", M3 + timedelta(days=days), second))
    assert code == expected


def test_stable_disease_counts_from_42_days_after_the_baseline_imaging():
    assert best(("M3", MRI + timedelta(days=42), "SD"))[0] == "SD"
    assert best(("M3", MRI + timedelta(days=41), "SD"))[0] == "NE"
    # The later of CT and MRI is the baseline: 42 days after the CT is too early here.
    assert best(("M3", CT + timedelta(days=42), "SD"))[0] == "NE"


def test_progression_before_the_minimum_stable_duration_is_the_best_response():
    early = MRI + timedelta(days=41)
    code, why = best(("M3", early, "PR"), ("M6", early + timedelta(days=60), "PD"))
    assert code == "PD"
    assert "Progression at M6" in why


def test_nothing_after_the_first_progression_counts():
    code, _ = best(("M3", M3, "PD"), ("M6", M3 + timedelta(days=90), "PR"))
    assert code == "PD"
    # A PR after the progression does not confirm one before it either.
    code, _ = best(
        ("M3", M3, "PR"),
        ("M6", M3 + timedelta(days=10), "PD"),
        ("M9", M3 + timedelta(days=60), "PR"),
    )
    assert code == "SD"


def test_a_single_unconfirmed_response_awaits_its_confirmation():
    code, why = best(("M3", M3, "CR"))
    assert code == "SD"
    assert "Complete response at M3" in why and "not confirmed" in why


def test_nothing_derived_before_any_time_point_response_or_without_the_baseline_date():
    assert best(("M3", M3, None)) == (None, None)
    assert best(("M3", None, "SD")) == (None, None)
    assert best(("M3", M3, "SD"), ct=None, mri=None) == (None, None)
    # Progression needs no baseline date.
    assert best(("M3", M3, "PD"), ct=None, mri=None)[0] == "PD"


def test_month_6_reads_month_3_and_its_own_assessment():
    bor = derivation("TRM6", "BESTRESP")
    assert bor.inputs == (
        "SCR.TUBL.CTDAT",
        "SCR.TUBL.MRIDAT",
        "M3.TRM3.TRDAT",
        "M3.TRM3.OVRLRESP",
        "TRDAT",
        "OVRLRESP",
    )
    values = {
        "SCR.TUBL.CTDAT": CT,
        "SCR.TUBL.MRIDAT": MRI,
        "M3.TRM3.TRDAT": M3,
        "M3.TRM3.OVRLRESP": "PR",
        "TRDAT": M3 + timedelta(days=91),
        "OVRLRESP": "PR",
    }
    assert bor.function(values) == "PR"
    assert "at M3" in derivation("TRM6", "BESTWHY").function(values)
    assert derivation("TRM3", "BESTRESP").inputs[-2:] == ("TRDAT", "OVRLRESP")


PETIV = date(2025, 3, 3)


@pytest.mark.parametrize(
    "name, item", [("CT_BEFORE_FIRST_PET", "CTDAT"), ("MRI_BEFORE_FIRST_PET", "MRIDAT")]
)
@pytest.mark.parametrize(
    ("offset", "finding"),
    [(-28, False), (-29, True), (0, False), (1, True)],
)
def test_baseline_imaging_lies_in_the_28_days_before_the_pet_iv(name, item, offset, finding):
    check = check_named("TUBL", name)
    values = {item: PETIV + timedelta(days=offset), "PETIV.PETIV.PETDAT": PETIV}
    message = check.function(values)
    assert bool(message) is finding
    if finding:
        assert "2025-02-03 to 2025-03-03" in message and message.count("?") == 1


def test_baseline_imaging_window_waits_for_the_pet_iv_date():
    check = check_named("TUBL", "CT_BEFORE_FIRST_PET")
    assert check.function({"CTDAT": PETIV, "PETIV.PETIV.PETDAT": None}) is None
