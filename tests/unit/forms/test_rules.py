"""Declarative edit checks (forms.rules): comparisons, bounds, windows of days and
uniqueness, as the engine runs them, with partial dates standing for every day they may
mean."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from forms.language import Severity
from forms.rules import between, broken, compare, listed, unique, within
from forms.values import PartialDate


@pytest.mark.parametrize(
    ("left", "op", "right", "is_broken"),
    [
        (date(2024, 5, 1), ">=", date(2024, 5, 2), True),
        (date(2024, 5, 2), ">=", date(2024, 5, 2), False),
        (date(2024, 5, 2), ">", date(2024, 5, 2), True),
        (date(2024, 5, 3), ">", date(2024, 5, 2), False),
        (date(2024, 5, 2), "<", date(2024, 5, 2), True),
        (date(2024, 5, 2), "<=", date(2024, 5, 2), False),
        (date(2024, 5, 2), "==", date(2024, 5, 3), True),
        # A partial date breaks a rule only when every day it may mean breaks it.
        (PartialDate(2024, 5), ">=", date(2024, 5, 20), False),
        (PartialDate(2024, 5), ">=", date(2024, 6, 1), True),
        (PartialDate(2024), "<=", date(2024, 1, 1), False),
        (PartialDate(2025), "<=", date(2024, 12, 31), True),
        (PartialDate(2024, 5), "==", PartialDate(2024), False),
        (time(10, 0), ">", time(9, 59), False),
        (time(10, 0), "<=", time(9, 59), True),
        (Decimal("12.5"), "<=", Decimal("12.5"), False),
        (Decimal("12.51"), "<=", Decimal("12.5"), True),
        (80, "<", 120, False),
        (120, "<", 120, True),
    ],
)
def test_a_comparison_is_broken_only_when_it_fails_for_every_value(left, op, right, is_broken):
    assert broken(left, op, right) is is_broken


def test_a_comparison_check_names_both_values_in_its_message():
    check = compare(
        "END_AFTER_START",
        "ENDDAT",
        ">=",
        "STDAT",
        message="The end date ({left}) is before the start date ({right}).",
        severity=Severity.REJECT,
    )
    assert (check.name, check.target, check.inputs, check.severity) == (
        "END_AFTER_START",
        "ENDDAT",
        ("ENDDAT", "STDAT"),
        Severity.REJECT,
    )
    found = check.function({"ENDDAT": date(2024, 1, 1), "STDAT": PartialDate(2024, 2)})
    assert found == "The end date (2024-01-01) is before the start date (2024-02)."
    assert check.function({"ENDDAT": date(2024, 3, 1), "STDAT": date(2024, 2, 1)}) is None
    assert check.function({"ENDDAT": None, "STDAT": date(2024, 2, 1)}) is None


def test_a_comparison_shows_clock_times_to_the_minute_as_the_site_typed_them():
    check = compare(
        "ACQ_AFTER_INJ",
        "ACQTIM",
        ">",
        "INJTIM",
        message="The acquisition ({left}) starts before the injection ({right}).",
    )
    found = check.function({"ACQTIM": time(9, 5), "INJTIM": time(10, 30)})
    assert found == "The acquisition (09:05) starts before the injection (10:30)."
    moments = {
        "ACQTIM": datetime(2024, 3, 1, 9, 5, tzinfo=UTC),
        "INJTIM": datetime(2024, 3, 1, 10, 30, 15, tzinfo=UTC),
    }
    assert check.function(moments) == (
        "The acquisition (2024-03-01 09:05) starts before the injection (2024-03-01 10:30)."
    )


def test_a_comparison_may_show_its_finding_at_another_item():
    check = compare("LAST", "EOSDAT", ">=", "LASTCONT", message="m", at="LASTCONT")
    assert check.target == "LASTCONT"


def test_an_unknown_comparison_is_refused_when_the_definition_is_written():
    with pytest.raises(ValueError, match="unknown comparison '=<'"):
        compare("X", "A", "=<", "B", message="m")


def test_a_unique_check_counts_identifiers_without_case_or_spaces():
    check = unique("ONCE", "LESID", among="TL[]", message="Lesion {value} is used more than once.")
    rows = [{"LESID": "L1"}, {"LESID": " l1 "}, {"LESID": "L2"}]
    assert check.function({"LESID": "L1", "TL[]": rows}) == "Lesion L1 is used more than once."
    assert check.function({"LESID": "L2", "TL[]": rows}) is None
    assert check.function({"LESID": None, "TL[]": rows}) is None
    numbers = unique("AE_ONCE", "AESPID", among="AE[]", message="AE {value} twice.")
    assert numbers.function({"AESPID": 3, "AE[]": [{"AESPID": 3}, {"AESPID": 3}]}) == "AE 3 twice."


def test_a_unique_check_may_forbid_the_identifier_in_another_table():
    check = unique(
        "TARGET_ID",
        "LESID",
        among="TL[]",
        message="Lesion {value} is used more than once.",
        elsewhere="NTL[]",
        elsewhere_item="NTLID",
        elsewhere_message="Lesion {value} is already a non-target lesion.",
    )
    assert check.inputs == ("LESID", "TL[]", "NTL[]")
    values = {"LESID": "L1", "TL[]": [{"LESID": "L1"}], "NTL[]": [{"NTLID": "l1"}]}
    assert check.function(values) == "Lesion L1 is already a non-target lesion."
    assert check.function({**values, "NTL[]": []}) is None


def test_elsewhere_needs_its_item_and_message():
    with pytest.raises(ValueError, match="go together"):
        unique("X", "A", among="G[]", message="m", elsewhere="H[]")


def test_a_listed_check_wants_the_identifier_among_the_rows_of_one_of_its_tables():
    check = listed(
        "FROM_BASELINE",
        "LESID",
        among=("SCR.TUBL.TL[]", "SCR.TUBL.NTL[]"),
        key="LESID",
        message="Lesion {value} is not a baseline lesion.",
    )
    assert check.inputs == ("LESID", "SCR.TUBL.TL[]", "SCR.TUBL.NTL[]")
    values = {"SCR.TUBL.TL[]": [{"LESID": "L1"}], "SCR.TUBL.NTL[]": [{"LESID": "N1"}]}
    assert check.function({**values, "LESID": " l1"}) is None
    assert check.function({**values, "LESID": "N1"}) is None
    assert check.function({**values, "LESID": "L7"}) == "Lesion L7 is not a baseline lesion."
    assert check.function({**values, "LESID": None}) is None


VISIT = date(2024, 5, 10)
NEAR = "The sample ({value}) is not from {earliest} to {latest} ({reference})."


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (date(2024, 4, 26), None),  # 14 days before: the first day allowed
        (
            date(2024, 4, 25),
            "The sample (2024-04-25) is not from 2024-04-26 to 2024-05-13 (2024-05-10).",
        ),
        (date(2024, 5, 13), None),
        (
            date(2024, 5, 14),
            "The sample (2024-05-14) is not from 2024-04-26 to 2024-05-13 (2024-05-10).",
        ),
        (PartialDate(2024, 4), None),  # may mean the 26th to the 30th
        (
            PartialDate(2024, 3),
            "The sample (2024-03) is not from 2024-04-26 to 2024-05-13 (2024-05-10).",
        ),
        (None, None),
    ],
)
def test_a_window_of_days_holds_from_its_first_to_its_last_day(sample, message):
    rule = within("NEAR", "LBDAT", of="@VISIT_DATE", days=(-14, 3), message=NEAR)
    assert rule.inputs == ("LBDAT", "@VISIT_DATE")
    assert rule.function({"LBDAT": sample, "@VISIT_DATE": VISIT}) == message


def test_a_window_around_an_unknown_date_raises_nothing():
    rule = within("NEAR", "LBDAT", of="@VISIT_DATE", days=(-14, 3), message=NEAR)
    assert rule.function({"LBDAT": date(2000, 1, 1), "@VISIT_DATE": None}) is None


def test_an_empty_window_is_refused_when_the_definition_is_written():
    with pytest.raises(ValueError, match=r"NEAR: days=\(3, -14\) is an empty window"):
        within("NEAR", "LBDAT", of="@VISIT_DATE", days=(3, -14), message=NEAR)


@pytest.mark.parametrize(
    ("value", "low", "high", "message"),
    [
        (date(2024, 5, 1), date(2024, 5, 1), date(2024, 5, 3), None),
        (date(2024, 5, 3), date(2024, 5, 1), date(2024, 5, 3), None),
        (
            date(2024, 4, 30),
            date(2024, 5, 1),
            date(2024, 5, 3),
            "2024-04-30 not in 2024-05-01..2024-05-03",
        ),
        (
            date(2024, 5, 4),
            date(2024, 5, 1),
            date(2024, 5, 3),
            "2024-05-04 not in 2024-05-01..2024-05-03",
        ),
        (date(2024, 5, 4), date(2024, 5, 1), None, None),  # no upper bound yet
        (date(2024, 4, 4), date(2024, 5, 1), None, "2024-04-04 not in 2024-05-01.."),
        (PartialDate(2024, 4), date(2024, 4, 30), date(2024, 5, 3), None),
        (Decimal("7.5"), Decimal("7.5"), Decimal("8"), None),
        (Decimal("8.01"), Decimal("7.5"), Decimal("8"), "8.01 not in 7.5..8"),
    ],
)
def test_a_value_between_two_others_may_equal_either(value, low, high, message):
    rule = between(
        "IN", "X", "@WINDOW_START", "@WINDOW_END", message="{value} not in {low}..{high}"
    )
    inputs = {"X": value, "@WINDOW_START": low, "@WINDOW_END": high}
    assert rule.function(inputs) == message
