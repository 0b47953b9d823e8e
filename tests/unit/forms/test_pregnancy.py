"""Women of childbearing potential: a test in the 7 days before each PET and before the
177Lu administration (the protocol states no delay: 7 days, forms.iahprrt.pregnancy), a
positive one asked about, contraception recorded for men and women who can bear children."""

from __future__ import annotations

from datetime import date

import pytest

from forms.iahprrt.pregnancy import TEST_DAYS
from forms.iahprrt.study import STUDY
from tests.trial_definition import check_named

PET = date(2025, 3, 10)


def test_the_test_precedes_both_pets_and_the_177lu_administration():
    visits = {v.oid: v.forms for v in STUDY.visits}
    assert visits["PETIV"][0] == "PREG" and visits["PETIAH"][0] == "PREG"
    names = {c.name for c in next(f for f in STUDY.forms if f.oid == "LUADM").checks}
    assert {"PREGNANCY_TEST", "PREGNANCY_TEST_RECENT", "CONTRACEPTION"} <= names
    assert TEST_DAYS == 7


@pytest.mark.parametrize("form_oid", ["PREG", "LUADM"])
@pytest.mark.parametrize(
    ("tested", "asked"),
    [
        (date(2025, 3, 3), False),  # 7 days before
        (date(2025, 3, 2), True),  # 8 days before
        (date(2025, 3, 10), False),  # the day itself
        (date(2025, 3, 11), True),  # after the exposure
    ],
)
def test_a_test_7_days_before_counts_and_8_days_before_is_asked_about(form_oid, tested, asked):
    message = check_named(form_oid, "PREGNANCY_TEST_RECENT").function(
        {"PREGDAT": tested, "@VISIT_DATE": PET}
    )
    assert (message is not None) is asked
    if asked and form_oid == "PREG":
        assert message == (
            f"The pregnancy test is dated {tested.isoformat()}, not in the 7 days before the"
            " PET (2025-03-10): was a test done from 2025-03-03 to 2025-03-10? Please enter"
            " that one."
        )


@pytest.mark.parametrize(
    ("test", "sex", "childbearing", "question"),
    [
        ("NA", "F", "Y", "no pregnancy test is recorded: was one done in the 7 days before?"),
        ("POS", "F", "Y", "The pregnancy test is positive: was the result confirmed?"),
        ("NEG", "M", None, "A pregnancy test is recorded for a man"),
        ("NEG", "F", "Y", None),
        ("NA", "M", None, None),
        ("NA", "F", "N", None),
    ],
)
def test_a_woman_of_childbearing_potential_untested_or_positive_is_a_question(
    test, sex, childbearing, question
):
    message = check_named("PREG", "PREGNANCY_TEST").function(
        {"PREGPRE": test, "SCR.DM.SEX": sex, "SCR.DM.CHILDPOT": childbearing}
    )
    if question is None:
        assert message is None
    else:
        assert question in message and message.rstrip().endswith(("?", "."))
        assert "?" in message


@pytest.mark.parametrize(
    ("contraception", "sex", "childbearing", "asked"),
    [
        ("N", "M", None, True),
        ("NA", "M", None, True),
        ("N", "F", "Y", True),
        ("Y", "F", "Y", False),
        ("Y", "M", None, False),
        ("NA", "F", "N", False),  # post-menopausal: not required
        ("N", "F", "N", False),
    ],
)
def test_contraception_is_asked_of_men_and_women_of_childbearing_potential(
    contraception, sex, childbearing, asked
):
    message = check_named("PREG", "CONTRACEPTION").function(
        {"CONTRA": contraception, "SCR.DM.SEX": sex, "SCR.DM.CHILDPOT": childbearing}
    )
    assert (message is not None) is asked
    if asked:
        assert "was it discussed with the patient?" in message
