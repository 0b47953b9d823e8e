"""Women of childbearing potential: a pregnancy test before each exposure to radiation of
the study (the PET after IV injection, the PET after IAH injection, the 177Lu-dotatate
administration), and contraception recorded for the patients the registry asks it of.

The registry record asks for contraception "in pre-menopausal female and men for at least
6 months after the last LUTATHERA® injection" and excludes pregnancy; it states no delay
between the test and the exposure. This definition takes 7 days (``TEST_DAYS``), the usual
delay for a serum or urine β-hCG before a radiopharmaceutical, until the protocol says
otherwise. Childbearing potential is the one recorded at screening (SCR.DM.CHILDPOT).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forms.iahprrt.common import check, choice, day, shown
from forms.language import VISIT_DATE, Check, Form, Item, ItemGroup, Severity, When
from forms.rules import within

#: The test lies at most this many days before the exposure (the day itself included).
TEST_DAYS = 7

_TESTED = When("PREGPRE", "in", ("NEG", "POS"))

#: The study's screening answers that say who must be tested.
SEX, CHILDBEARING = "SCR.DM.SEX", "SCR.DM.CHILDPOT"


def pregnancy_items(exposure: str) -> tuple[Item, ...]:
    """The test before ``exposure`` ("the PET", "the administration"), its date and
    specimen, and the contraception in use."""
    return (
        choice(
            "PREGPRE",
            f"Pregnancy test before {exposure}",
            "PREGPRE",
            required=True,
            help=f"Women of childbearing potential: a test in the {TEST_DAYS} days before.",
        ),
        day("PREGDAT", "Date of the pregnancy test", **shown(_TESTED), sdtm="LB.LBDTC[HCG]"),
        choice("PREGSPEC", "Specimen", "PREGSPEC", **shown(_TESTED)),
        choice(
            "CONTRA",
            "Effective contraception in use",
            "CONTRA",
            required=True,
            help="Men and women of childbearing potential, until 6 months after the last"
            " LUTATHERA® injection.",
        ),
        choice("CONTRAMETH", "Method", "CONTRAMETH", **shown(When("CONTRA", "eq", "Y"))),
    )


def pregnancy_checks(exposure: str) -> tuple[Check, ...]:
    """Questions to the site: a woman of childbearing potential untested, tested too early
    or positive before ``exposure``; a patient without the contraception required."""
    return (
        check("PREGNANCY_TEST", "PREGPRE", pregnancy_test_expected, "PREGPRE", SEX, CHILDBEARING),
        within(
            "PREGNANCY_TEST_RECENT",
            "PREGDAT",
            of=VISIT_DATE,
            days=(-TEST_DAYS, 0),
            message=(
                f"The pregnancy test is dated {{value}}, not in the {TEST_DAYS} days before"
                f" {exposure} ({{reference}}): was a test done from {{earliest}} to"
                " {latest}? Please enter that one."
            ),
        ),
        check("CONTRACEPTION", "CONTRA", contraception_expected, "CONTRA", SEX, CHILDBEARING),
    )


def pregnancy_test_expected(
    test: str | None, sex: str | None, childbearing: str | None
) -> str | None:
    if sex == "F" and childbearing == "Y" and test == "NA":
        return NO_TEST
    if sex == "M" and test in ("NEG", "POS"):
        return TEST_FOR_A_MAN
    if test == "POS":
        return POSITIVE_TEST
    return None


def contraception_expected(
    contraception: str | None, sex: str | None, childbearing: str | None
) -> str | None:
    required = sex == "M" or (sex == "F" and childbearing == "Y")
    if required and contraception in ("N", "NA"):
        return NO_CONTRACEPTION
    return None


#: Each exposure: its name, the item dating it, and the test recorded before it.
EXPOSURES = (
    ("the PET after IV injection", "PETIV.PETIV.PETDAT", "PETIV.PREG.PREGPRE"),
    ("the PET after IAH injection", "PETIAH.PETIAH.PETDAT", "PETIAH.PREG.PREGPRE"),
    ("the 177Lu administration", "THER.LUADM.EXSTDAT", "THER.LUADM.PREGPRE"),
)


@dataclass(frozen=True)
class Untested:
    """Edit check on the screening demographics: an exposure took place (its date is
    recorded) and nothing at all is recorded about the pregnancy test before it (its form
    not entered), for a woman of childbearing potential. The test's own form asks about a
    test missing, too old or positive once it is entered."""

    def __call__(self, values: Mapping[str, Any]) -> str | None:
        if values.get("SEX") != "F" or values.get("CHILDPOT") != "Y":
            return None
        missing = [
            f"{name} ({values[dated]})"
            for name, dated, test in EXPOSURES
            if values.get(dated) is not None and values.get(test) is None
        ]
        if not missing:
            return None
        return UNTESTED.format(exposures="; ".join(missing))


UNTESTED = (
    "This woman of childbearing potential had {exposures} with no pregnancy test recorded"
    f" before: was one done in the {TEST_DAYS} days before? Please enter it with the visit."
)


def untested_exposures() -> Check:
    inputs = ("SEX", "CHILDPOT", *(ref for _, dated, test in EXPOSURES for ref in (dated, test)))
    return Check("PREGNANCY_TEST_MISSING", "CHILDPOT", inputs, Untested(), Severity.WARN)


NO_TEST = (
    "The patient is a woman of childbearing potential (screening) and no pregnancy test is"
    f" recorded: was one done in the {TEST_DAYS} days before? Please enter its date and"
    " result."
)
TEST_FOR_A_MAN = "A pregnancy test is recorded for a man: is the patient or the answer wrong?"
POSITIVE_TEST = (
    "The pregnancy test is positive: was the result confirmed? Pregnancy excludes the"
    " patient from radiation exposure (EXC09); please inform the investigator."
)
NO_CONTRACEPTION = (
    "No effective contraception is recorded, though the protocol requires it for men and"
    " women of childbearing potential until 6 months after the last LUTATHERA® injection:"
    " was it discussed with the patient? Please record the method."
)

PREG = Form(
    "PREG",
    "Pregnancy test and contraception",
    (ItemGroup("PREG", "Before the PET", pregnancy_items("the PET"), domain="LB"),),
    checks=pregnancy_checks("the PET"),
)
