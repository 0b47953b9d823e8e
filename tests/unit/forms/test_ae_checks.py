"""The adverse event log's coding checks (forms/iahprrt/ae_checks.py), at their boundaries,
and how the AE form binds them."""

from __future__ import annotations

import pytest

from forms.iahprrt.ae_checks import grade_outside_term, lutetium_relationship
from forms.iahprrt.logs import AE
from forms.language import Severity

ALOPECIA, DEATH, SEPSIS, ANEMIA = "10001760", "10011914", "10040047", "10002272"


@pytest.mark.parametrize(
    ("code", "grade", "refused"),
    [
        (ALOPECIA, "1", False),
        (ALOPECIA, "2", False),  # its highest grade
        (ALOPECIA, "3", True),  # just above
        (DEATH, "5", False),
        (DEATH, "4", True),
        (SEPSIS, "2", True),  # just below its lowest grade
        (SEPSIS, "3", False),
        (ANEMIA, "5", False),
        (None, "3", False),  # nothing to check against yet
        (ALOPECIA, None, False),
        ("10099999", "3", False),  # not a listed term: refused at the term, not here
    ],
)
def test_a_grade_the_term_lacks_is_refused(code, grade, refused):
    assert (grade_outside_term(code, grade) is not None) is refused


def test_the_refusal_names_the_grades_the_term_has():
    assert grade_outside_term(ALOPECIA, "3") == (
        "In CTCAE v5.0, Alopecia has grades 1 to 2, not grade 3: choose one of its grades,"
        " or the term that describes the event."
    )
    assert "Death NOS has grade 5 only, not grade 4" in grade_outside_term(DEATH, "4")


@pytest.mark.parametrize(
    ("therapy", "relationship", "flagged"),
    [
        ("Y", None, True),  # therapy sub-group: the relationship to 177Lu is needed
        ("Y", "NOT", False),
        ("Y", "POSSIBLE", False),
        ("N", None, False),  # imaging only: not asked
        ("N", "POSSIBLE", True),  # no 177Lu was given
        (None, None, False),  # the sub-group is not known yet
    ],
)
def test_the_relationship_to_177lu_is_asked_in_the_therapy_subgroup_only(
    therapy, relationship, flagged
):
    assert (lutetium_relationship(therapy, relationship) is not None) is flagged


def test_the_ae_form_binds_the_coding_checks():
    checks = {c.name: c for c in AE.checks}
    grade = checks["GRADE_OF_TERM"]
    assert (grade.target, grade.inputs, grade.severity) == (
        "AETOXGR",
        ("AELLTCD", "AETOXGR"),
        Severity.REJECT,
    )
    relationship = checks["LU_RELATIONSHIP"]
    assert (relationship.target, relationship.inputs, relationship.severity) == (
        "AEREL",
        ("SCR.IC.THERAPY", "AEREL"),
        Severity.WARN,
    )
    (group,) = AE.groups
    term = next(i for i in group.items if i.oid == "AELLTCD")
    assert (term.codelist, term.required, term.missing_allowed) == ("CTCAE", True, False)
    assert [oid for oid, _ in group.summary] == [
        "AESPID", "AELLTCD", "AETOXGR", "AESTDAT", "AEENDAT", "AESER", "AERELPR", "AEREL", "AEOUT"
    ]  # fmt: skip
