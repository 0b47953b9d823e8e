"""Derived values of the IAH-PRRT trial (protocol STUDY.md, "Derived values"), as pure
functions of plain arguments. None in, None out: a value that cannot be computed yet is
never guessed. CTCAE grading lives in ctcae.py, RECIST 1.1 in recist.py.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

from forms.iahprrt.common import dec, moment, rounded, rows_of
from forms.values import PartialDate

# --- constants -----------------------------------------------------------------------------

#: mg/dL → µmol/L for creatinine (molar mass 113.12 g/mol: 10 000 / 113.12 = 88.40;
#: the protocol fixes 88.42).
CREATININE_UMOL_PER_MGDL = Decimal("88.42")
#: Cockcroft-Gault factor for women.
CG_FEMALE_FACTOR = Decimal("0.85")
#: Physical half-lives.
LU177_HALF_LIFE_HOURS = Decimal("6.647") * 24  # 6.647 d
GA68_HALF_LIFE_MINUTES = Decimal("67.71")
_LN2 = Decimal(2).ln()


# --- demographics and vital signs ---------------------------------------------------------


def age_at_consent(birth: PartialDate | None, consent: date | None) -> int | None:
    """Completed years at consent from the month and year of birth.

    The day of birth is not collected (data minimisation): the birthday is taken as the
    1st of the birth month, so in the birth month itself the patient counts as having
    had the birthday (the eligibility rule on age treats that month as uncertain).
    """
    if birth is None or consent is None or birth.month is None:
        return None
    return consent.year - birth.year - (1 if consent.month < birth.month else 0)


def bmi(weight: Decimal | None, height: int | None, screening_height: int | None) -> Decimal | None:
    """Body-mass index, kg/m², from the weight and the height of the visit, or the
    screening height when it was not measured again."""
    height = height or screening_height
    if weight is None or not height:
        return None
    metres = Decimal(height) / 100
    return rounded(dec(weight) / (metres * metres))


# --- renal and hepatic function -----------------------------------------------------------


def creatinine_umol(value: Decimal | None, unit: str | None) -> Decimal | None:
    """A creatinine value in µmol/L whatever unit it was entered in."""
    if value is None or unit is None:
        return None
    if unit == "umol/L":
        return dec(value)
    if unit == "mg/dL":
        return dec(value) * CREATININE_UMOL_PER_MGDL
    raise ValueError(f"unknown creatinine unit {unit!r}")


def creatinine_mgdl(value: Decimal | None, unit: str | None) -> Decimal | None:
    """A creatinine value in mg/dL whatever unit it was entered in."""
    if value is None or unit is None:
        return None
    if unit == "mg/dL":
        return dec(value)
    if unit == "umol/L":
        return dec(value) / CREATININE_UMOL_PER_MGDL
    raise ValueError(f"unknown creatinine unit {unit!r}")


CG_FORMULA = (
    "Cockcroft-Gault: CrCl (mL/min) = (140 − age in years) × weight in kg × (0.85 if female)"
    " / (72 × serum creatinine in mg/dL); creatinine entered in µmol/L is divided by 88.42."
    " Age at consent, sex, and the weight of this visit (or the latest weighed before it);"
    " not normalised to 1.73 m². Shown to one decimal; eligibility compares the unrounded"
    " value with its threshold."
)

#: Places the clearance is kept to: those of the database's numbers (Numeric(28, 10)), so
#: that the stored text and number agree; thresholds compare this, never the shown value.
CLEARANCE_PLACES = Decimal("1e-10")


def cockcroft_gault(
    age: int | None,
    weight: Decimal | None,
    sex: str | None,
    creatinine: Decimal | None,
    unit: str | None,
) -> Decimal | None:
    """Creatinine clearance, mL/min, unrounded (see CG_FORMULA): rounded only for display."""
    scr = creatinine_mgdl(creatinine, unit)
    if age is None or weight is None or sex not in ("M", "F") or not scr:
        return None
    clearance = (140 - Decimal(age)) * dec(weight) / (72 * scr)
    if sex == "F":
        clearance *= CG_FEMALE_FACTOR
    kept = clearance.quantize(CLEARANCE_PLACES).normalize()
    # No exponent in the kept text: 7E+1 is written 70.
    return kept.quantize(Decimal(1)) if kept.as_tuple().exponent > 0 else kept


def creatinine_clearance(
    age: int | None, weight: Decimal | None, sex: str | None, creatinine_umol: Decimal | None
) -> Decimal | None:
    """Cockcroft-Gault from a creatinine in µmol/L, the standard unit the engine converts
    every entered creatinine to (see CG_FORMULA)."""
    return cockcroft_gault(age, weight, sex, creatinine_umol, "umol/L")


def times_uln(value: Decimal | int | None, uln: Decimal | int | None) -> Decimal | None:
    """A lab value as a multiple of the laboratory's upper limit of normal (2 decimals)."""
    if value is None or not uln:
        return None
    return rounded(dec(value) / dec(uln), "0.01")


def within_normal(value: Decimal | None, uln: Decimal | None) -> str | None:
    """ "Y" when ``value`` is at most the upper limit of normal, "N" above it."""
    if value is None or uln is None:
        return None
    return "Y" if value <= uln else "N"


# Child-Pugh (Pugh 1973; CCJM table): bilirubin µmol/L < 34 / 34–51 / > 51;
# albumin g/dL > 3.5 / 2.8–3.5 / < 2.8; INR < 1.7 / 1.7–2.3 / > 2.3.
_ASCITES_POINTS = {"NONE": 1, "MILD": 2, "MODSEV": 3}
_ENCEPHALOPATHY_POINTS = {"NONE": 1, "G12": 2, "G34": 3}

CHILD_PUGH_FORMULA = (
    "Child-Pugh: 1/2/3 points each for bilirubin (< 34 / 34–51 / > 51 µmol/L), albumin"
    " (> 3.5 / 2.8–3.5 / < 2.8 g/dL), INR (< 1.7 / 1.7–2.3 / > 2.3), ascites (none / mild"
    " / moderate-severe) and encephalopathy (none / grade 1–2 / grade 3–4); total 5–15."
)


def child_pugh_score(
    bilirubin_umol: Decimal | None,
    albumin_gdl: Decimal | None,
    inr: Decimal | None,
    ascites: str | None,
    encephalopathy: str | None,
) -> int | None:
    """Child-Pugh total (5–15), None while a component is missing."""
    if None in (bilirubin_umol, albumin_gdl, inr, ascites, encephalopathy):
        return None
    bilirubin_umol, albumin_gdl, inr = dec(bilirubin_umol), dec(albumin_gdl), dec(inr)
    points = 1 if bilirubin_umol < 34 else (2 if bilirubin_umol <= 51 else 3)
    points += 1 if albumin_gdl > Decimal("3.5") else (2 if albumin_gdl >= Decimal("2.8") else 3)
    points += 1 if inr < Decimal("1.7") else (2 if inr <= Decimal("2.3") else 3)
    points += _ASCITES_POINTS[ascites] + _ENCEPHALOPATHY_POINTS[encephalopathy]
    return points


def child_pugh_class(score: int | None) -> str | None:
    """Class and score as clinicians write it: A5–A6, B7–B9, C10–C15."""
    if score is None:
        return None
    letter = "A" if score <= 6 else ("B" if score <= 9 else "C")
    return f"{letter}{score}"


# --- radioactivity ---------------------------------------------------------------------------


def decay_factor(elapsed: Decimal, half_life: Decimal) -> Decimal:
    """Fraction of activity left after ``elapsed`` (same unit as ``half_life``); above 1
    when ``elapsed`` is negative (activity earlier than its measurement)."""
    return (-_LN2 * dec(elapsed) / dec(half_life)).exp()


def activity_at(
    activity: Decimal, measured_minutes: Decimal, at_minutes: Decimal, half_life_minutes: Decimal
) -> Decimal:
    """Activity measured at one moment, decay-corrected to another (minutes on one axis)."""
    return dec(activity) * decay_factor(at_minutes - measured_minutes, half_life_minutes)


def _minutes(t: time) -> Decimal:
    return Decimal(t.hour * 60 + t.minute)


GA68_FORMULA = (
    "Net injected 68Ga activity at injection = syringe activity × 2^(−(t injection − t syringe"
    " measurement) / 67.71 min) − residual × 2^((t residual measurement − t injection)"
    " / 67.71 min); same day."
)


def ga68_injected(
    syringe: Decimal | None,
    syringe_time: time | None,
    residual: Decimal | None,
    residual_time: time | None,
    injection_time: time | None,
) -> Decimal | None:
    """68Ga activity that entered the patient, at the injection time (MBq, 1 decimal).

    A residual not measured counts as zero only when it was entered as 0.
    """
    if syringe is None or syringe_time is None or injection_time is None:
        return None
    at = _minutes(injection_time)
    net = activity_at(syringe, _minutes(syringe_time), at, GA68_HALF_LIFE_MINUTES)
    if residual:
        if residual_time is None:
            return None
        net -= activity_at(residual, _minutes(residual_time), at, GA68_HALF_LIFE_MINUTES)
    return rounded(net)


def uptake_minutes(injection_time: time | None, acquisition_time: time | None) -> int | None:
    """68Ga uptake delay: minutes from injection to the start of acquisition (same day)."""
    if injection_time is None or acquisition_time is None:
        return None
    delay = int(_minutes(acquisition_time) - _minutes(injection_time))
    return delay if delay >= 0 else None


LU177_FORMULA = (
    "Administered 177Lu activity at the start of administration = syringe activity ×"
    " 2^(−Δt / 6.647 d) − residual × 2^(Δt' / 6.647 d), Δt from the syringe measurement to the"
    " start, Δt' from the start to the residual measurement (dates default to the"
    " administration date)."
)


def lu177_administered(
    syringe: Decimal | None,
    syringe_date: date | None,
    syringe_time: time | None,
    residual: Decimal | None,
    residual_date: date | None,
    residual_time: time | None,
    start_date: date | None,
    start_time: time | None,
) -> Decimal | None:
    """177Lu activity administered, decay-corrected to the start of the administration."""
    start = moment(start_date, start_time)
    measured = moment(syringe_date or start_date, syringe_time)
    if syringe is None or start is None or measured is None:
        return None
    hours = Decimal((start - measured).total_seconds()) / 3600
    net = dec(syringe) * decay_factor(hours, LU177_HALF_LIFE_HOURS)
    if residual:
        residual_at = moment(residual_date or start_date, residual_time)
        if residual_at is None:
            return None
        hours = Decimal((residual_at - start).total_seconds()) / 3600
        net -= dec(residual) * decay_factor(-hours, LU177_HALF_LIFE_HOURS)
    return rounded(net)


def percent_deviation(actual: Decimal | None, intended: Decimal | None) -> Decimal | None:
    """(actual − intended) / intended, in % (1 decimal)."""
    if actual is None or not intended:
        return None
    return rounded((dec(actual) - dec(intended)) * 100 / dec(intended))


def hours_between(
    first_date: date | None, first_time: time | None, then_date: date | None, then_time: time | None
) -> Decimal | None:
    """Hours from one date and time to another (1 decimal)."""
    start, end = moment(first_date, first_time), moment(then_date, then_time)
    if start is None or end is None:
        return None
    return rounded(Decimal((end - start).total_seconds()) / 3600)


def minutes_between(start: time | None, end: time | None) -> int | None:
    """Minutes from one time of day to a later one (same day)."""
    if start is None or end is None:
        return None
    delta = int(_minutes(end) - _minutes(start))
    return delta if delta >= 0 else None


# --- PET uptake: ratios (the IAH/IV pairing and gains: pet_pairs.py) ---------------------


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """numerator / denominator to 2 decimals (tumour-to-liver ratio, IAH/IV ratio...)."""
    if numerator is None or not denominator:
        return None
    return rounded(dec(numerator) / dec(denominator), "0.01")


# --- dosimetry ---------------------------------------------------------------------------


def mean_of(*values: Decimal | None) -> Decimal | None:
    """Mean of the values entered (None when none is)."""
    present = [dec(v) for v in values if v is not None]
    return rounded(sum(present) / len(present), "0.01") if present else None


def cumulative_dose(*doses: Decimal | None) -> Decimal | None:
    """Sum over all five cycles (4 IV + 1 IAH); None until every cycle has a dose."""
    if any(d is None for d in doses):
        return None
    return rounded(sum(dec(d) for d in doses), "0.01")


# --- counting ----------------------------------------------------------------------------


def count_rows(item: str, rows: list[dict] | None) -> int | None:
    """Number of rows with ``item`` filled (None when there is no row at all)."""
    rows = rows_of(rows)
    return sum(1 for row in rows if row.get(item) is not None) if rows else None


def last_date(item: str, rows: list[dict] | None) -> date | None:
    dates = [row[item] for row in rows_of(rows) if row.get(item) is not None]
    return max(dates) if dates else None


def copy_when(expected: Any, value: Any, condition: Any) -> Any:
    """``value`` when ``condition`` equals ``expected`` (e.g. the failed criteria for a
    screen failure), else None."""
    return value if condition == expected else None
