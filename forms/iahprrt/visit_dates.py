"""Dates of a form against the date of its visit, and the planned D0 against the schedule.

A visit's date is what schedules the next ones and what the data of the visit are read
against; a sample or examination far from it, or a procedure dated another day, is
usually a typing error (a day and month swapped, the date of the previous visit copied).
"""

from __future__ import annotations

from forms.language import VISIT_DATE, WINDOW_END, WINDOW_START, Check
from forms.rules import between, compare, within

#: Blood is drawn up to two weeks before the visit it prepares (before a 177Lu
#: administration, as its label asks), or a few days after a follow-up visit's date.
SAMPLE_DAYS = (-14, 3)
#: Vital signs are measured at the visit; the follow-up windows allow ±3 days.
MEASURE_DAYS = (-3, 3)


def sample_near_visit(item: str = "LBDAT") -> Check:
    return within(
        "SAMPLE_NEAR_VISIT",
        item,
        of=VISIT_DATE,
        days=SAMPLE_DAYS,
        message=(
            "The sample date ({value}) is far from the visit ({reference}), where samples are "
            "expected from {earliest} to {latest}: is the date right?"
        ),
    )


def measured_at_visit(item: str) -> Check:
    return within(
        "MEASURED_AT_VISIT",
        item,
        of=VISIT_DATE,
        days=MEASURE_DAYS,
        message=(
            "The date of measurement ({value}) is far from the visit ({reference}), where "
            "{earliest} to {latest} is expected: is the date right?"
        ),
    )


def on_visit_date(item: str, message: str) -> Check:
    """The procedure ``item`` dates is the visit: it takes place on the visit's date."""
    return compare("ON_VISIT_DATE", item, "==", VISIT_DATE, message=message)


def in_visit_window(item: str, message: str) -> Check:
    """The examination ``item`` dates counts for this visit: it lies in the visit's window
    (from D0 or T0, as the schedule says)."""
    return between(
        "IN_VISIT_WINDOW",
        item,
        WINDOW_START,
        WINDOW_END,
        message=message,
    )


#: The screening visit is due from D-42 to D-7 (forms.iahprrt.study): the D0 planned at
#: screening lies 7 to 42 days after it.
D0_AFTER_SCREENING = (7, 42)


def d0_planned_in_window() -> Check:
    return within(
        "D0_PLANNED_IN_WINDOW",
        "D0PLAN",
        of=VISIT_DATE,
        days=D0_AFTER_SCREENING,
        message=(
            "The planned D0 ({value}) does not fit the screening visit ({reference}), due "
            "from D-42 to D-7: is the date right? D0 may be planned from {earliest} to "
            "{latest}."
        ),
    )
