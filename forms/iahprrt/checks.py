"""Edit checks of the IAH-PRRT trial that say more than a comparison or a uniqueness, as
pure functions: each returns the message to show when its rule is broken, None otherwise
(and None when the data needed are missing). Comparisons ("the end is not before the
start") and uniqueness ("an identifier is used once") are declared in the form files with
``forms.rules.compare`` and ``unique``.

A finding is a question to the site, in plain words: what looks wrong, then what to
check ("…: is the date right?"), so the nurse answers it as she would a monitor's query.

They are bound to forms in the form files (``common.check``), which also chooses REJECT
(cannot be saved) or WARN (saved, stays open as a query until the data change).

Not expressible as a pure function: "dates not in the future" needs today's date, which
a pure function of the entered data cannot read. It belongs in the engine (a field rule
applied to every DATE / PARTIAL_DATE item) or in the language (see the report).
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

from forms.iahprrt.codelists import LABTERM, RECRESP
from forms.iahprrt.common import dec, moment, rows_of
from forms.iahprrt.ctcae_terms import LAB_TERM_CODES
from forms.values import PartialDate, definitely_before, earliest, latest, same_id

Day = date | PartialDate | None


# --- dates and times -------------------------------------------------------------------


def birth_month_and_year(birth: PartialDate | None) -> str | None:
    if birth is None:
        return None
    if birth.month is None:
        return "Enter the month and the year of birth (YYYY-MM)."
    if birth.day is not None:
        return "Only the month and year of birth are collected: leave the day out (YYYY-MM)."
    return None


# --- vital signs and labs ----------------------------------------------------------------


def unit_needed(value: Any, unit: str | None) -> str | None:
    if value is not None and unit is None:
        return "The value has no unit: in which unit was it measured?"
    return None


def differential_within_total(
    neutrophils: int | None, lymphocytes: int | None, leucocytes: int | None
) -> str | None:
    if leucocytes is None:
        return None
    parts = sum(v for v in (neutrophils, lymphocytes) if v is not None)
    if parts > leucocytes:
        return (
            f"Neutrophils + lymphocytes ({parts}/mm³) exceed the leucocytes ({leucocytes}/mm³):"
            " were all three counts entered in the same unit (per mm³, not 10⁹/L)?"
        )
    return None


def _covers(row: dict[str, Any], day: date) -> bool:
    start, end = earliest(row.get("AESTDAT")), latest(row.get("AEENDAT"))
    return start is not None and start <= day and (end is None or day <= end)


def lab_grade_without_ae(
    term: str,
    grade: int | None,
    sample: date | None,
    baseline_sample: date | None,
    ae_rows: list[dict] | None,
) -> str | None:
    """A CTCAE grade ≥ 3 lab value needs an adverse event coded with the same CTCAE term
    (its MedDRA code), grade ≥ 3, whose dates cover the sample. Values on or before the
    screening sample are baseline (medical history), not adverse events."""
    if grade is None or grade < 3 or sample is None:
        return None
    if baseline_sample is not None and sample <= baseline_sample:
        return None
    for row in rows_of(ae_rows):
        if (
            row.get("AELLTCD") == LAB_TERM_CODES.get(term)
            and row.get("AETOXGR") is not None
            and int(row["AETOXGR"]) >= 3
            and _covers(row, sample)
        ):
            return None
    return (
        f"CTCAE grade {grade} {LABTERM.label(term).lower()} on {sample}, and no adverse event"
        " covers it: should it be recorded in the adverse event log (same CTCAE term, grade"
        " ≥ 3, dates covering the sample)?"
    )


def sample_after_last_cycle(sample: date | None, cycles: list[dict] | None) -> str | None:
    dates = [row["EXSTDAT"] for row in rows_of(cycles) if row.get("EXSTDAT") is not None]
    if sample is None or not dates or sample > max(dates):
        return None
    return (
        f"The sample ({sample}) is not after the last LUTATHERA cycle ({max(dates)}): is the"
        " date right? Eligibility is judged on values measured after the 4 cycles."
    )


def ki67_matches_grade(grade: str | None, ki67: Decimal | None) -> str | None:
    """WHO 2019: G1 Ki-67 < 3 %, G2 3–20 %, G3 > 20 %."""
    if grade is None or ki67 is None:
        return None
    expected = "G1" if ki67 < 3 else ("G2" if ki67 <= 20 else "G3")
    if expected != grade:
        return (
            f"Ki-67 {ki67} % corresponds to grade {expected} (WHO 2019), yet grade {grade} is"
            " recorded: which of the two is right?"
        )
    return None


# --- lesions and identifiers ---------------------------------------------------------------


def lesion_on_pet(
    identifier: str | None, index_rows: list[dict] | None, extra_rows: list[dict] | None
) -> str | None:
    """A dosimetry lesion is one of the PET-IV lesions (liver index or extra-hepatic)."""
    if identifier is None:
        return None
    if any(same_id(r.get("LESID"), identifier) for r in rows_of(index_rows)) or any(
        same_id(r.get("XLESID"), identifier) for r in rows_of(extra_rows)
    ):
        return None
    return f"Lesion {identifier} is not among the PET-IV lesions: is the identifier right?"


def lesions_declared(
    answer: str | None, targets: list[dict] | None, others: list[dict] | None
) -> str | None:
    count = len(rows_of(targets)) + len(rows_of(others))
    if answer == "N" and count:
        return "No lesion is declared, yet lesions are listed: which of the two is right?"
    if answer == "Y" and not rows_of(targets):
        return (
            "Lesions are declared but no target lesion is listed: which measurable lesion is"
            " the target? Please list at least one."
        )
    return None


def differs_from_derived(label: str, answer: str | None, derived: str | None) -> str | None:
    if answer is None or derived is None or answer == derived:
        return None
    return (
        f"{label}: the radiologist reads {RECRESP.label(answer).lower()}, the RECIST 1.1"
        f" derivation from the measurements gives {RECRESP.label(derived).lower()}: are the"
        " measurements or the reading to be corrected?"
    )


# --- cycles and administrations --------------------------------------------------------------


def cycles_in_order(cycle: int | None, day: date | None, rows: list[dict] | None) -> str | None:
    if cycle is None or day is None:
        return None
    for row in rows_of(rows):
        other, other_day = row.get("CYCLE"), row.get("EXSTDAT")
        if other is None or other_day is None or other == cycle:
            continue
        if (other < cycle and other_day >= day) or (other > cycle and other_day <= day):
            return (
                f"Cycle {cycle} ({day}) is out of order with cycle {other} ({other_day}):"
                " are the cycle numbers and their dates right?"
            )
    return None


def activity_within(
    tolerance_percent: int, administered: Decimal | None, prescribed: Decimal | None
) -> str | None:
    if administered is None or not prescribed:
        return None
    deviation = (dec(administered) - dec(prescribed)) * 100 / dec(prescribed)
    if abs(deviation) <= tolerance_percent:
        return None
    return (
        f"The administered activity {administered} MBq is {deviation:+.1f} % from the"
        f" prescribed {prescribed} MBq (allowed ±{tolerance_percent} %): are both activities"
        " right? If so, please explain the deviation."
    )


def hours_within(label: str, low: int, high: int, hours: Decimal | None) -> str | None:
    if hours is None or low <= hours <= high:
        return None
    return (
        f"{label} {hours} h after the administration, where {low}–{high} h is expected:"
        " are the dates and times right?"
    )


# --- safety logs -------------------------------------------------------------------------------


def ae_before_consent(start: Day, consent: date | None) -> str | None:
    if definitely_before(start, consent):
        return (
            f"The event started ({start}) before consent ({consent}): did it worsen after"
            " consent? If not, it belongs in the medical history."
        )
    return None


def serious_needs_report(
    serious: str | None, number: int | None, reports: list[dict] | None
) -> str | None:
    if serious != "Y":
        return None
    if number is not None and any(row.get("SAESPID") == number for row in rows_of(reports)):
        return None
    return (
        f"Serious adverse event{f' {number}' if number is not None else ''}: was the SAE"
        " report sent within 24 h? Please record it in the SAE report log."
    )


def serious_needs_criterion(serious: str | None, *criteria: str | None) -> str | None:
    if serious == "Y" and "Y" not in criteria:
        return (
            "The adverse event is serious but no seriousness criterion is ticked: which one"
            " does it meet?"
        )
    return None


def fatal_consistent(grade: str | None, outcome: str | None) -> str | None:
    if grade is None or outcome is None or (grade == "5") == (outcome == "FATAL"):
        return None
    if grade == "5":
        return "Grade 5 means the event led to death, yet the outcome is not fatal: which is right?"
    return "The outcome is fatal, yet the grade is not 5 (death): which is right?"


def death_needs_form(
    outcome: str | None, resulted_in_death: str | None, death_date: date | None
) -> str | None:
    if (outcome == "FATAL" or resulted_in_death == "Y") and death_date is None:
        return (
            "The adverse event was fatal: have the death form and the end-of-study form been"
            " completed?"
        )
    return None


def report_within_24h(
    aware_date: date | None,
    aware_time: time | None,
    report_date: date | None,
    report_time: time | None,
) -> str | None:
    if aware_date is None or report_date is None:
        return None
    if report_date < aware_date:
        return (
            "The report date is before the date the site became aware of the event: which"
            " date is right?"
        )
    aware, sent = moment(aware_date, aware_time), moment(report_date, report_time)
    late = (
        (sent - aware).total_seconds() > 24 * 3600
        if aware and sent
        else ((report_date - aware_date).days > 1)
    )
    if late:
        return (
            "The SAE was reported to the sponsor more than 24 h after the site became aware:"
            " are the dates and times right? If so, please explain the delay."
        )
    return None


def report_links_ae(number: int | None, ae_rows: list[dict] | None) -> str | None:
    if number is None:
        return None
    for row in rows_of(ae_rows):
        if row.get("AESPID") == number:
            return (
                None
                if row.get("AESER") == "Y"
                else (
                    f"Adverse event {number} is not marked serious in the adverse event log:"
                    " is the number right, or is the event serious?"
                )
            )
    return f"No adverse event number {number} is in the adverse event log: is the number right?"


def death_forces_end_of_study(death_date: date | None, status: str | None) -> str | None:
    if death_date is None:
        return None
    if status is None:
        return "The patient died: has the end-of-study form been completed (status: death)?"
    if status != "DEATH":
        return "The patient died, yet the end-of-study status is not death: which is right?"
    return None


def end_of_study_death(status: str | None, death_date: date | None) -> str | None:
    if status == "DEATH" and death_date is None:
        return "The study ended by death: has the death form been completed?"
    return None


def completion_consistent(
    status: str | None, therapy: str | None, call_date: date | None, m6_date: date | None
) -> str | None:
    if status != "COMPLETED":
        return None
    if therapy == "Y" and m6_date is None:
        return (
            "The study is completed, yet the M6 visit that completes it in the therapy"
            " sub-group is not recorded: was it done?"
        )
    if therapy == "N" and call_date is None:
        return (
            "The study is completed, yet the safety call that completes it for imaging-only"
            " patients is not recorded: was it done?"
        )
    return None


def call_ends_study(therapy: str | None, status: str | None) -> str | None:
    if therapy == "N" and status is None:
        return (
            "The patient is not in the therapy sub-group, so the study ends with this call:"
            " has the end-of-study form been completed?"
        )
    return None


def review_needs_log(answer: str | None, ae_rows: list[dict] | None) -> str | None:
    if answer == "Y" and not rows_of(ae_rows):
        return (
            "An adverse event is reported, yet the adverse event log is empty: has it been"
            " recorded there?"
        )
    return None
