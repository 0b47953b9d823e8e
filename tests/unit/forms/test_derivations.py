"""Derived values, against hand-computed results (STUDY.md, "Derived values")."""

from __future__ import annotations

import functools
from datetime import date, time
from decimal import Decimal as D

import pytest

from forms.iahprrt import derivations as dv
from forms.iahprrt import pet_pairs as pp
from forms.iahprrt.common import rounded
from forms.values import PartialDate
from tests.trial_definition import derivation

# --- age, BMI ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "consent", "age"),
    [
        ("1960-05", date(2025, 3, 3), 64),  # birthday month not reached yet
        ("1960-03", date(2025, 3, 3), 65),  # birth month: birthday taken as the 1st
        ("1960-02", date(2025, 3, 3), 65),
        ("2007-04", date(2025, 3, 31), 17),  # 18 in April
        ("2007-03", date(2025, 3, 1), 18),
        ("2007-02", date(2025, 3, 1), 18),
        ("1960", date(2025, 3, 3), None),  # month missing: no age
    ],
)
def test_age_at_consent_from_month_and_year(birth, consent, age):
    assert dv.age_at_consent(PartialDate.parse(birth), consent) == age


def test_age_needs_both_dates():
    assert dv.age_at_consent(None, date(2025, 1, 1)) is None
    assert dv.age_at_consent(PartialDate(1960, 5), None) is None


@pytest.mark.parametrize(
    ("weight", "height", "screening_height", "bmi"),
    [
        (D("70"), 175, None, D("22.9")),  # 70 / 1.75² = 22.857
        (D("70"), None, 175, D("22.9")),  # later visit: screening height
        (D("100"), 200, 150, D("25.0")),  # the visit's own height wins
        (D("45.5"), 160, None, D("17.8")),  # 45.5 / 2.56 = 17.773
        (None, 175, None, None),
        (D("70"), None, None, None),
    ],
)
def test_bmi(weight, height, screening_height, bmi):
    assert dv.bmi(weight, height, screening_height) == bmi


# --- creatinine clearance ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "umol", "mgdl"),
    [
        (D("1"), "mg/dL", D("88.42"), D("1")),
        (D("88.42"), "umol/L", D("88.42"), D("1")),
        (D("2.0"), "mg/dL", D("176.840"), D("2.0")),
    ],
)
def test_creatinine_unit_conversion_uses_88_42(value, unit, umol, mgdl):
    assert dv.creatinine_umol(value, unit) == umol
    assert dv.creatinine_mgdl(value, unit) == mgdl


def test_an_unknown_creatinine_unit_is_refused():
    with pytest.raises(ValueError):
        dv.creatinine_mgdl(D("1"), "mmol/L")


@pytest.mark.parametrize(
    ("age", "weight", "sex", "creatinine", "unit", "clearance"),
    [
        # (140 − 40) × 72 / (72 × 2.0) = 50.0: the inclusion threshold exactly
        (40, D("72"), "M", D("2.0"), "mg/dL", D("50.0")),
        # 2.0 mg/dL = 176.84 µmol/L: the same clearance whatever the unit entered
        (40, D("72"), "M", D("176.84"), "umol/L", D("50.0")),
        # 7200 / (72 × 2.004) = 49.90: just below
        (40, D("72"), "M", D("2.004"), "mg/dL", D("49.9")),
        # women × 0.85: 50.0 × 0.85
        (40, D("72"), "F", D("2.0"), "mg/dL", D("42.5")),
        # background.md example: (140 − 65) × 70 / (72 × 1.4) = 52.08
        (65, D("70"), "M", D("1.4"), "mg/dL", D("52.1")),
        # 80 µmol/L = 0.90477 mg/dL; 70 × 60 / (72 × 0.90477) × 0.85 = 54.80
        (70, D("60"), "F", D("80"), "umol/L", D("54.8")),
        (40, D("72"), None, D("2.0"), "mg/dL", None),
        (40, D("72"), "M", D("2.0"), None, None),
        (None, D("72"), "M", D("2.0"), "mg/dL", None),
        (40, None, "M", D("2.0"), "mg/dL", None),
    ],
)
def test_cockcroft_gault(age, weight, sex, creatinine, unit, clearance):
    """The clearance as shown (one decimal); it is kept unrounded."""
    result = dv.cockcroft_gault(age, weight, sex, creatinine, unit)
    assert (None if result is None else rounded(result)) == clearance


@pytest.mark.parametrize(
    ("creatinine", "kept"),
    [
        # 7200 / (72 × 2.004) = 49.9002: kept as computed, not 49.9
        (D("2.004"), D("49.9001996008")),
        # 7200 / (72 × 2.0008) = 49.98: shown 50.0, kept below 50
        (D("2.0008"), D("49.9800079968")),
        (D("2.0"), D("50")),
    ],
)
def test_the_clearance_is_kept_unrounded(creatinine, kept):
    assert dv.cockcroft_gault(40, D("72"), "M", creatinine, "mg/dL") == kept


def test_the_clearance_derivation_reads_the_weight_of_its_visit_or_the_latest():
    crcl = derivation("LBCHEM", "CRCL")
    assert "0.85" in crcl.formula and "88.42" in crcl.formula
    assert "latest" in crcl.formula
    values = {
        "SCR.DM.AGE": 40,
        "@LATEST.VS.WEIGHT": D("72"),
        "SCR.DM.SEX": "M",
        "CREAT": D("176.84"),  # in µmol/L, the standard unit the engine converts to
    }
    assert set(crcl.inputs) == set(values)
    assert crcl.function(values) == D("50")
    # 2.00 mg/dL as the engine converts it (× 88.42) gives the same clearance
    assert crcl.function(values | {"CREAT": D("2.00") * D("88.42")}) == D("50")


@pytest.mark.parametrize(
    ("value", "uln", "multiple"),
    [
        (100, 40, D("2.50")),
        (101, 40, D("2.53")),
        (40, 40, D("1.00")),
        (40, 0, None),
        (None, 40, None),
    ],
)
def test_times_uln(value, uln, multiple):
    assert dv.times_uln(value, uln) == multiple


@pytest.mark.parametrize(
    ("pt", "uln", "normal"),
    [(D("14.0"), D("14.0"), "Y"), (D("14.1"), D("14.0"), "N"), (None, D("14"), None)],
)
def test_prothrombin_time_within_normal(pt, uln, normal):
    assert dv.within_normal(pt, uln) == normal


# --- Child-Pugh --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bilirubin", "albumin", "inr", "ascites", "encephalopathy", "score", "grade"),
    [
        (D("10"), D("4.0"), D("1.0"), "NONE", "NONE", 5, "A5"),
        (D("33.9"), D("3.6"), D("1.69"), "NONE", "NONE", 5, "A5"),  # all just under 2 points
        (D("34"), D("4.0"), D("1.0"), "NONE", "NONE", 6, "A6"),  # bilirubin 34: 2 points
        (D("10"), D("3.5"), D("1.0"), "NONE", "NONE", 6, "A6"),  # albumin 3.5: 2 points
        (D("10"), D("4.0"), D("1.7"), "NONE", "NONE", 6, "A6"),  # INR 1.7: 2 points
        (D("10"), D("2.9"), D("1.8"), "NONE", "NONE", 7, "B7"),
        (D("51"), D("2.8"), D("2.3"), "NONE", "NONE", 8, "B8"),  # upper edges of 2 points
        (D("52"), D("2.7"), D("2.31"), "NONE", "NONE", 11, "C11"),  # 3 points each
        (D("40"), D("3.0"), D("1.5"), "MILD", "G12", 9, "B9"),
        (D("40"), D("3.0"), D("1.5"), "MODSEV", "G12", 10, "C10"),
        (D("60"), D("2.5"), D("2.5"), "MODSEV", "G34", 15, "C15"),
        (None, D("4.0"), D("1.0"), "NONE", "NONE", None, None),
        (D("10"), D("4.0"), D("1.0"), None, "NONE", None, None),
    ],
)
def test_child_pugh(bilirubin, albumin, inr, ascites, encephalopathy, score, grade):
    assert dv.child_pugh_score(bilirubin, albumin, inr, ascites, encephalopathy) == score
    assert dv.child_pugh_class(score) == grade


# --- decay correction --------------------------------------------------------------------


def test_one_half_life_halves_the_activity():
    assert dv.decay_factor(D("67.71"), dv.GA68_HALF_LIFE_MINUTES).quantize(D("1e-12")) == D("0.5")
    assert D("159.528") == dv.LU177_HALF_LIFE_HOURS  # 6.647 d
    lu = dv.decay_factor(D("159.528"), dv.LU177_HALF_LIFE_HOURS)
    assert lu.quantize(D("1e-12")) == D("0.5")
    assert dv.decay_factor(D("-67.71"), D("67.71")).quantize(D("1e-12")) == D("2")


@pytest.mark.parametrize(
    ("syringe", "syringe_time", "residual", "residual_time", "injection", "injected"),
    [
        # 150 × 2^(−10/67.71) − 5 × 2^(10/67.71) = 135.405 − 5.539
        (D("150"), time(9, 0), D("5"), time(9, 20), time(9, 10), D("129.9")),
        # measured at injection, no residual: as measured
        (D("150"), time(9, 10), D("0"), None, time(9, 10), D("150.0")),
        (D("150"), time(9, 10), None, None, time(9, 10), D("150.0")),
        # a residual without its time cannot be corrected
        (D("150"), time(9, 0), D("5"), None, time(9, 10), None),
        (D("150"), None, None, None, time(9, 10), None),
    ],
)
def test_ga68_injected_activity(
    syringe, syringe_time, residual, residual_time, injection, injected
):
    assert dv.ga68_injected(syringe, syringe_time, residual, residual_time, injection) == injected


@pytest.mark.parametrize(
    ("injection", "acquisition", "minutes"),
    [
        (time(9, 10), time(10, 10), 60),
        (time(9, 10), time(9, 10), 0),
        (time(10, 0), time(9, 0), None),
    ],
)
def test_ga68_uptake_delay(injection, acquisition, minutes):
    assert dv.uptake_minutes(injection, acquisition) == minutes


@pytest.mark.parametrize(
    ("args", "administered"),
    [
        # 8000 MBq measured 48 h before the start: × 2^(−48/159.528) = × 0.811752
        (
            (
                D(8000),
                date(2025, 5, 3),
                time(10, 0),
                D(0),
                None,
                None,
                date(2025, 5, 5),
                time(10, 0),
            ),
            D("6494.0"),
        ),
        # measured at the start; residual 74 MBq 2 h later: 74 × 2^(2/159.528) = 74.646
        (
            (D(7400), None, time(9, 0), D(74), None, time(11, 0), date(2025, 5, 5), time(9, 0)),
            D("7325.4"),
        ),
        # residual on another day, dated
        (
            (
                D(7400),
                None,
                time(9, 0),
                D(74),
                date(2025, 5, 5),
                time(11, 0),
                date(2025, 5, 5),
                time(9, 0),
            ),
            D("7325.4"),
        ),
        ((D(7400), None, time(9, 0), D(74), None, None, date(2025, 5, 5), time(9, 0)), None),
        ((D(7400), None, time(9, 0), D(0), None, None, date(2025, 5, 5), None), None),
    ],
)
def test_lu177_administered_activity(args, administered):
    assert dv.lu177_administered(*args) == administered


def test_an_activity_corrected_over_years_is_not_derived():
    # A measurement dated 2 years after the start (a typo in the year) multiplies the
    # activity by 2^110: more digits than Decimal keeps, so nothing is derived (None), as
    # when the engine took the rounding's error for "nothing to derive".
    start = (date(2025, 5, 5), time(9, 0))
    syringe_later = (D(7400), date(2027, 5, 5), time(9, 0), None, None, None, *start)
    residual_later = (D(7400), None, time(9, 0), D(74), date(2027, 5, 5), time(11, 0), *start)
    assert dv.lu177_administered(*syringe_later) is None
    assert dv.lu177_administered(*residual_later) is None
    # Measured 2 years before: 2^-110 of it is left, which rounds to 0.0 as it always did.
    syringe_earlier = (D(7400), date(2023, 5, 5), time(9, 0), None, None, None, *start)
    assert dv.lu177_administered(*syringe_earlier) == D("0.0")


def test_rounding_keeps_every_value_decimal_arithmetic_can_hold():
    assert rounded(D("1E25"), "0.01") == D("10000000000000000000000000.00")  # 28 digits
    assert rounded(D("1E26"), "0.01") is None  # 29
    assert rounded(D("2.25")) == D("2.3")
    assert rounded(None) is None


@pytest.mark.parametrize(
    ("actual", "intended", "percent"),
    [
        (D("6660"), D("7400"), D("-10.0")),
        (D("8140"), D("7400"), D("10.0")),
        (D("7400"), D("0"), None),
    ],
)
def test_percent_deviation(actual, intended, percent):
    assert dv.percent_deviation(actual, intended) == percent


def test_hours_and_minutes_between():
    start = (date(2025, 5, 5), time(10, 0))
    assert dv.hours_between(*start, date(2025, 5, 6), time(10, 30)) == D("24.5")
    assert dv.hours_between(*start, None, time(10, 30)) is None
    assert dv.minutes_between(time(10, 0), time(10, 30)) == 30
    assert dv.minutes_between(time(10, 30), time(10, 0)) is None


# --- PET ratios and gains ---------------------------------------------------------------

IV_ROWS = [
    {"LESID": "L1", "SUVMAX": D("20"), "SUVMEAN": D("12"), "SUVPEAK": D("16")},
    {"LESID": "L2", "SUVMAX": D("30"), "SUVMEAN": D("15"), "SUVPEAK": D("25")},
    {"LESID": "L3", "SUVMAX": D("10"), "SUVMEAN": D("6"), "SUVPEAK": None},
    {"LESID": "L4", "SUVMAX": D("40"), "SUVMEAN": D("20"), "SUVPEAK": D("30")},
]


def test_tumour_to_liver_ratio():
    assert dv.ratio(D("20"), D("5")) == D("4.00")
    assert dv.ratio(D("20"), D("3")) == D("6.67")
    assert dv.ratio(D("20"), None) is None and dv.ratio(D("20"), D("0")) is None


@pytest.mark.parametrize(
    ("metric", "lesion", "value", "gain"),
    [
        ("SUVMAX", "L1", D("40"), D("2.00")),
        ("SUVMAX", " l1 ", D("40"), D("2.00")),  # identifiers compare without case and spaces
        ("SUVMEAN", "L2", D("20"), D("1.33")),
        ("SUVPEAK", "L2", D("30"), D("1.20")),
        ("SUVPEAK", "L3", D("8"), None),  # no PET-IV SUVpeak
        ("SUVMAX", "L9", D("40"), None),  # not on the PET-IV
        ("SUVMAX", None, D("40"), None),
    ],
)
def test_per_lesion_iah_iv_ratio_is_paired_by_identifier(metric, lesion, value, gain):
    assert pp.paired_ratio("LESID", "SEGMENT", metric, lesion, None, value, IV_ROWS) == gain


def test_a_duplicated_identifier_pairs_with_nothing():
    rows = [*IV_ROWS, {"LESID": "L1", "SUVMAX": D("5")}]
    assert pp.paired_ratio("LESID", "SEGMENT", "SUVMAX", "L1", None, D("40"), rows) is None


def test_tumour_to_liver_gain_uses_each_scan_s_healthy_liver():
    # IAH T/L = 40 / 4 = 10; IV T/L = 20 / 5 = 4 → 2.5
    tl = functools.partial(pp.paired_tl_ratio, "LESID", "SEGMENT", "SUVMAX")
    assert tl("L1", None, D("40"), D("4"), IV_ROWS, D("5")) == D("2.50")
    assert tl("L1", None, D("40"), None, IV_ROWS, D("5")) is None
    assert tl("L9", None, D("40"), D("4"), IV_ROWS, D("5")) is None


def test_extra_hepatic_lesions_pair_on_their_own_identifier_item():
    iv = [{"XLESID": "B1", "XSUVMAX": D("8")}]
    assert pp.paired_ratio("XLESID", "XSITE", "XSUVMAX", "B1", None, D("12"), iv) == D("1.50")


@pytest.mark.parametrize(
    ("iah", "median", "paired"),
    [
        # gains 2.0, 1.5, 1.2, 0.5 (L1..L4) → median (1.5 + 1.2) / 2
        (
            [
                {"LESID": "L1", "SUVMAX": D("40")},
                {"LESID": "L2", "SUVMAX": D("45")},
                {"LESID": "L3", "SUVMAX": D("12")},
                {"LESID": "L4", "SUVMAX": D("20")},
            ],
            D("1.35"),
            4,
        ),
        # odd count; an unpaired lesion (L9) and one without SUVmax are left out
        (
            [
                {"LESID": "L1", "SUVMAX": D("40")},
                {"LESID": "L2", "SUVMAX": D("45")},
                {"LESID": "L3", "SUVMAX": D("12")},
                {"LESID": "L9", "SUVMAX": D("99")},
                {"LESID": "L4", "SUVMAX": None},
            ],
            D("1.50"),
            3,
        ),
        ([{"LESID": "L9", "SUVMAX": D("99")}], None, 0),
        ([], None, None),
    ],
)
def test_median_gain_over_the_index_lesions(iah, median, paired):
    perfused = [{**row, "PERF": "Y"} for row in iah]
    assert pp.median_gain("Y", perfused, IV_ROWS) == median
    assert pp.count_paired("Y", perfused, IV_ROWS) == paired


def test_the_iah_form_derives_gains_against_the_petiv_rows():
    gain = derivation("PETIAH", "GSUVMAX")
    assert "PETIV.PETIV.IDX[]" in gain.inputs
    values = {"LESID": "L2", "SUVMAX": D("45"), "PETIV.PETIV.IDX[]": IV_ROWS}
    assert gain.function(values) == D("1.50")
    organ = derivation("PETIAH", "KIDGMAX")
    assert organ.function({"KIDSUVMAX": D("15"), "PETIV.PETIV.KIDSUVMAX": D("20")}) == D("0.75")
    extra = derivation("PETIAH", "XGSUVMAX")
    iv = [{"XLESID": "B1", "XSUVMAX": D("8")}]
    assert extra.function({"XLESID": "B1", "XSUVMAX": D("12"), "PETIV.PETIV.EXH[]": iv}) == D(
        "1.50"
    )


# --- dosimetry, counts -------------------------------------------------------------------


def test_mean_and_cumulative_absorbed_dose():
    # IAH 12 Gy; IV 4, 6, 5, 5 → mean 5; cumulative 32 (the ratio is on doses per GBq:
    # test_dosimetry.py)
    assert dv.mean_of(D(4), D(6), D(5), D(5)) == D("5.00")
    assert dv.cumulative_dose(D(12), D(4), D(6), D(5), D(5)) == D("32.00")
    assert dv.cumulative_dose(D(12), D(4), None, D(5), D(5)) is None


def test_cycles_counted_and_last_dated():
    rows = [{"EXSTDAT": date(2024, 6, 1)}, {"EXSTDAT": date(2024, 12, 1)}, {"EXSTDAT": None}]
    assert dv.count_rows("EXSTDAT", rows) == 2
    assert dv.count_rows("EXSTDAT", []) is None
    assert dv.last_date("EXSTDAT", rows) == date(2024, 12, 1)


def test_screen_failure_copies_the_failed_criteria():
    assert dv.copy_when("SCREENFAIL", "INC06, EXC03", "SCREENFAIL") == "INC06, EXC03"
    assert dv.copy_when("SCREENFAIL", "INC06, EXC03", "COMPLETED") is None
