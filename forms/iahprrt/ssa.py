"""Cold somatostatin analogue injections during the study, and their washouts.

A cold (unlabelled) somatostatin analogue occupies the receptors the 68Ga and 177Lu
peptides bind: one given between the two PETs makes their uptake not comparable, and one
given inside the washout before a PET or before the 177Lu administration lowers that
uptake. The protocol's record gives no washout; the definition takes those of the
LUTATHERA label and of the EANM/SNMMI guideline for SSTR PET: 4 weeks for a long-acting
(depot) analogue, 24 h for a short-acting one.

Prior treatment courses (drug, start, end) stay on the screening form PRTX; this log takes
each injection from 3 months before the PET-IV to the end of the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from forms.iahprrt.common import check, choice, clock, day, decimal, shown, text
from forms.language import Check, Form, ItemGroup, When

# --- the washouts (declared as data) -------------------------------------------------------


@dataclass(frozen=True)
class Washout:
    """How long before a PET or the 177Lu no injection of a formulation may be given.

    ``by_clock``: counted in hours from the injection's time to the event's (short-acting);
    otherwise in calendar days from date to date (long-acting: the event may be on the day
    the washout ends, injection date + ``length``).
    """

    length: timedelta
    by_clock: bool


#: Washouts by formulation (code list SSAACT).
WASHOUTS: dict[str, Washout] = {
    "LONG": Washout(timedelta(weeks=4), by_clock=False),
    "SHORT": Washout(timedelta(hours=24), by_clock=True),
}

#: The formulation of each analogue of the code list SSADRUG ("OTHER": the site says).
FORMULATIONS: dict[str, str] = {"OCTLAR": "LONG", "LANREO": "LONG", "OCTSC": "SHORT"}


@dataclass(frozen=True)
class Event:
    """An event a washout protects: its date and time items, and the questions to the site."""

    name: str
    date: str
    time: str
    #: A long-acting injection inside the washout ({value}: the injection date, {event}:
    #: the event's date, {days}: days between).
    long_message: str
    #: A short-acting injection less than 24 h before ({value}, {event}).
    short_message: str
    #: A short-acting injection that may be less than 24 h before: a time is missing.
    unknown_time_message: str


EVENTS: tuple[Event, ...] = (
    Event(
        "PETIV",
        "PETIV.PETIV.PETDAT",
        "PETIV.PETIV.INJTIM",
        "This long-acting injection ({value}) is {days} days before the PET-IV ({event}),"
        " inside the 4-week washout: was it given on that date? Please check.",
        "This short-acting injection ({value}) is less than 24 h before the PET-IV ({event}):"
        " was it given then? Please check the date and time.",
        "This short-acting injection ({value}) may be less than 24 h before the PET-IV"
        " ({event}): at what time was it given? Please enter the time.",
    ),
    Event(
        "PETIAH",
        "PETIAH.PETIAH.PETDAT",
        "PETIAH.PETIAH.INJTIM",
        "This long-acting injection ({value}) is {days} days before the PET-IAH ({event}),"
        " inside the 4-week washout: was it given on that date? Please check.",
        "This short-acting injection ({value}) is less than 24 h before the PET-IAH ({event}):"
        " was it given then? Please check the date and time.",
        "This short-acting injection ({value}) may be less than 24 h before the PET-IAH"
        " ({event}): at what time was it given? Please enter the time.",
    ),
    Event(
        "LU177",
        "THER.LUADM.EXSTDAT",
        "THER.LUADM.EXSTTIM",
        "This long-acting injection ({value}) is {days} days before the 177Lu administration"
        " ({event}), inside the 4-week washout: was it given on that date? Please check.",
        "This short-acting injection ({value}) is less than 24 h before the 177Lu"
        " administration ({event}): was it given then? Please check the date and time.",
        "This short-acting injection ({value}) may be less than 24 h before the 177Lu"
        " administration ({event}): at what time was it given? Please enter the time.",
    ),
)

BETWEEN_PETS = (
    "This injection ({value}) falls between the PET-IV ({first}) and the PET-IAH ({second}):"
    " was a cold somatostatin analogue given between the two PETs? Please check the date;"
    " if so, the two PETs are not comparable."
)


def formulation(drug: str | None, declared: str | None) -> str | None:
    """Long- or short-acting: from the analogue, else as the site declares it."""
    return FORMULATIONS.get(drug or "") or declared


# --- the rules ------------------------------------------------------------------------------


def _earliest(day_: date, clock_: time | None) -> datetime:
    return datetime.combine(day_, clock_ or time.min)


def _latest(day_: date, clock_: time | None) -> datetime:
    return datetime.combine(day_, clock_ or time.max)


def inside_washout(
    event: Event,
    drug: str | None,
    declared: str | None,
    injected_on: date | None,
    injected_at: time | None,
    event_on: date | None,
    event_at: time | None,
) -> str | None:
    """No injection inside the washout before the event (4 weeks long-acting, counted in
    days; 24 h short-acting, counted in hours from the times when given: an injection
    whose time is missing may lie anywhere in its day, and is asked about)."""
    washout = WASHOUTS.get(formulation(drug, declared) or "")
    if washout is None or injected_on is None or event_on is None:
        return None
    if _earliest(injected_on, injected_at) > _latest(event_on, event_at):
        return None  # after the event: not in the washout before it
    if not washout.by_clock:
        days = (event_on - injected_on).days
        if days >= washout.length.days:
            return None
        return event.long_message.format(
            value=injected_on.isoformat(), event=event_on.isoformat(), days=days
        )
    # Short-acting: broken for sure when even the earliest injection moment is too close,
    # possibly when only the latest is (a time missing).
    if _latest(event_on, event_at) - _earliest(injected_on, injected_at) < washout.length:
        message = event.short_message
    elif _earliest(event_on, event_at) - _latest(injected_on, injected_at) < washout.length:
        message = event.unknown_time_message
    else:
        return None
    return message.format(value=injected_on.isoformat(), event=event_on.isoformat())


def between_pets(
    injected_on: date | None,
    injected_at: time | None,
    first_on: date | None,
    first_at: time | None,
    second_on: date | None,
    second_at: time | None,
) -> str | None:
    """No injection after the PET-IV's tracer injection and before the PET-IAH's (an
    injection on the day of a PET without a time may be on either side, and is asked
    about)."""
    if injected_on is None or first_on is None or second_on is None:
        return None
    after_first = _latest(injected_on, injected_at) > _earliest(first_on, first_at)
    before_second = _earliest(injected_on, injected_at) < _latest(second_on, second_at)
    if not (after_first and before_second):
        return None
    return BETWEEN_PETS.format(
        value=injected_on.isoformat(), first=first_on.isoformat(), second=second_on.isoformat()
    )


def _washout_checks() -> list[Check]:
    inputs = ("SSATRT", "SSAACT", "SSADAT", "SSATIM")
    return [
        check(
            f"SSA_WASHOUT_{event.name}",
            "SSADAT",
            inside_washout,
            *inputs,
            event.date,
            event.time,
            constants=(event,),
        )
        for event in EVENTS
    ]


SSAINJ = Form(
    "SSAINJ",
    "Cold somatostatin analogue injections",
    (
        ItemGroup(
            "SSA",
            "Injections (from 3 months before the PET-IV to the end of the study)",
            (
                day("SSADAT", "Date of the injection", required=True, cdash="CMSTDAT"),
                clock(
                    "SSATIM",
                    "Time of the injection",
                    cdash="CMSTTIM",
                    help="Needed for a short-acting injection the day before a PET or the"
                    " 177Lu administration (24 h washout).",
                ),
                choice("SSATRT", "Somatostatin analog", "SSADRUG", required=True, cdash="CMTRT"),
                choice(
                    "SSAACT",
                    "Formulation",
                    "SSAACT",
                    help="Sets the washout: 4 weeks long-acting, 24 h short-acting.",
                    **shown(When("SSATRT", "eq", "OTHER")),
                ),
                text(
                    "SSAOTH", "Which analog", max_length=60, **shown(When("SSATRT", "eq", "OTHER"))
                ),
                decimal("SSADOSE", "Dose", "mg", precision=2, hard=(0.01, 500), cdash="CMDOSE"),
            ),
            repeating=True,
            domain="CM",
        ),
    ),
    checks=(
        check(
            "SSA_BETWEEN_PETS",
            "SSADAT",
            between_pets,
            "SSADAT",
            "SSATIM",
            "PETIV.PETIV.PETDAT",
            "PETIV.PETIV.INJTIM",
            "PETIAH.PETIAH.PETDAT",
            "PETIAH.PETIAH.INJTIM",
        ),
        *_washout_checks(),
    ),
    help="Every injection of a cold (unlabelled) somatostatin analogue, with its date: one"
    " inside a washout or between the two PETs is queried.",
)
