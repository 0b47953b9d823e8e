"""Cold somatostatin analogue injections (forms/iahprrt/ssa.py): a finding when one falls
between the two PETs or inside the washout before a PET or the 177Lu administration
(4 weeks long-acting, counted in days; 24 h short-acting, counted in hours)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from forms.iahprrt import ssa
from forms.iahprrt.study import STUDY
from tests.trial_definition import check_named, form

PETIV_DAY, PETIAH_DAY, T0 = date(2025, 3, 3), date(2025, 3, 10), date(2025, 4, 7)
EVENT_ITEMS = {
    "PETIV": ("PETIV.PETIV.PETDAT", "PETIV.PETIV.INJTIM"),
    "PETIAH": ("PETIAH.PETIAH.PETDAT", "PETIAH.PETIAH.INJTIM"),
    "LU177": ("THER.LUADM.EXSTDAT", "THER.LUADM.EXSTTIM"),
}


def washout(event: str, drug: str, day: date, at: time | None, event_day: date, event_at):
    check = check_named("SSAINJ", f"SSA_WASHOUT_{event}")
    event_date, event_time = EVENT_ITEMS[event]
    assert check.inputs == ("SSATRT", "SSAACT", "SSADAT", "SSATIM", event_date, event_time)
    values = {"SSATRT": drug, "SSAACT": None, "SSADAT": day, "SSATIM": at}
    return check.function(values | {event_date: event_day, event_time: event_at})


def test_the_log_is_a_log_of_the_study_with_one_row_per_injection():
    logs = next(v for v in STUDY.visits if v.oid == "LOGS")
    assert "SSAINJ" in logs.forms
    group = form("SSAINJ").groups[0]
    assert group.repeating and group.domain == "CM"
    items = {item.oid: item for item in group.items}
    assert items["SSADAT"].required and items["SSATRT"].codelist == "SSADRUG"


def test_the_washouts_are_declared_as_data():
    assert ssa.WASHOUTS["LONG"].length == timedelta(weeks=4)
    assert ssa.WASHOUTS["SHORT"].length == timedelta(hours=24)
    assert ssa.formulation("LANREO", None) == "LONG"
    assert ssa.formulation("OCTLAR", None) == "LONG"
    assert ssa.formulation("OCTSC", None) == "SHORT"
    assert ssa.formulation("OTHER", "SHORT") == "SHORT"


@pytest.mark.parametrize("event", ["PETIV", "PETIAH", "LU177"])
@pytest.mark.parametrize(
    ("days_before", "finding"),
    [
        (28, False),  # the event on the day the washout ends
        (27, True),  # the day before it ends
        (35, False),
        (0, True),
        (-1, False),  # after the event: not in the washout before it
    ],
)
def test_a_long_acting_injection_inside_the_4_week_washout_is_a_finding(
    event, days_before, finding
):
    event_day = date(2025, 6, 2)
    day = event_day - timedelta(days=days_before)
    message = washout(event, "LANREO", day, None, event_day, time(10, 0))
    assert (message is not None) is finding
    if finding:
        assert f"{days_before} days before" in message and "?" in message


@pytest.mark.parametrize(
    ("day", "at", "finding"),
    [
        (date(2025, 6, 1), time(10, 0), False),  # exactly 24 h before the tracer
        (date(2025, 6, 1), time(10, 1), True),  # 23 h 59 min
        (date(2025, 6, 1), time(9, 0), False),
        (date(2025, 6, 2), time(8, 0), True),  # the same morning
        (date(2025, 5, 31), None, False),  # two days before, whatever the time
        (date(2025, 6, 2), time(11, 0), False),  # after the injection of the tracer
    ],
)
def test_a_short_acting_injection_less_than_24_h_before_is_a_finding(day, at, finding):
    message = washout("PETIV", "OCTSC", day, at, date(2025, 6, 2), time(10, 0))
    assert (message is not None) is finding


def test_a_short_acting_injection_the_day_before_without_a_time_asks_for_it():
    message = washout("LU177", "OCTSC", date(2025, 6, 1), None, date(2025, 6, 2), time(10, 0))
    assert "at what time" in message
    certain = washout("LU177", "OCTSC", date(2025, 6, 1), time(12, 0), date(2025, 6, 2), time(10))
    assert "at what time" not in certain


def test_another_analogue_takes_the_washout_of_the_formulation_declared():
    check = check_named("SSAINJ", "SSA_WASHOUT_PETIV")
    base = {"SSATRT": "OTHER", "SSADAT": date(2025, 5, 20), "SSATIM": None}
    event = {"PETIV.PETIV.PETDAT": date(2025, 6, 2), "PETIV.PETIV.INJTIM": time(10)}
    assert check.function(base | event | {"SSAACT": "LONG"}) is not None
    assert check.function(base | event | {"SSAACT": "SHORT"}) is None
    assert check.function(base | event | {"SSAACT": None}) is None  # not known yet


def between(day: date, at: time | None, iv_at=time(10, 0), iah_at=time(14, 0)):
    check = check_named("SSAINJ", "SSA_BETWEEN_PETS")
    return check.function(
        {
            "SSADAT": day,
            "SSATIM": at,
            "PETIV.PETIV.PETDAT": PETIV_DAY,
            "PETIV.PETIV.INJTIM": iv_at,
            "PETIAH.PETIAH.PETDAT": PETIAH_DAY,
            "PETIAH.PETIAH.INJTIM": iah_at,
        }
    )


@pytest.mark.parametrize(
    ("day", "at", "finding"),
    [
        (PETIV_DAY + timedelta(days=1), None, True),
        (PETIAH_DAY - timedelta(days=1), time(9, 0), True),
        (PETIV_DAY, time(11, 0), True),  # after the PET-IV's tracer
        (PETIV_DAY, time(9, 0), False),  # before it (the washout check speaks then)
        (PETIV_DAY, None, True),  # which side? asked
        (PETIAH_DAY, time(15, 0), False),  # after the PET-IAH's tracer
        (PETIV_DAY - timedelta(days=1), None, False),
        (PETIAH_DAY + timedelta(days=1), None, False),
    ],
)
def test_an_injection_between_the_two_pets_is_a_finding(day, at, finding):
    message = between(day, at)
    assert (message is not None) is finding
    if finding:
        assert "between the two PETs?" in message


def test_no_finding_while_the_pets_are_not_dated():
    check = check_named("SSAINJ", "SSA_BETWEEN_PETS")
    assert check.function({"SSADAT": PETIV_DAY, "PETIV.PETIV.PETDAT": None}) is None
    assert washout("LU177", "LANREO", T0, None, None, None) is None
