"""Values of the audit trail read back as the form shows them (history pages, review)."""

from __future__ import annotations

import pytest

from ecrf.records.loader import LoadedStudy, load_study
from ecrf.records.recorded import describe_recorded
from forms.iahprrt import STUDY


@pytest.fixture(scope="module")
def study() -> LoadedStudy:
    return load_study(STUDY)


@pytest.mark.parametrize(
    ("form", "path", "text", "shown"),
    [
        ("LVEF", "LVEF[1].LVEFMETH", "ECHO", "Transthoracic echocardiography"),
        ("HEPAT", "CI[1].CIRRH", "N", "No"),
        ("HEPAT", "CI[1].CIRRH", "Y", "Yes"),
        ("LVEF", "LVEF[1].LVEF", "62", "62 %"),
        ("LVEF", "LVEF[1].LVEF", "[ND]", "Not done (ND)"),
        ("LVEF", "LVEF[1].LVEF", "[UNK]", "Unknown (UNK)"),
        ("LBHEM", "LBHEM[1].HGB", "125 g/L", "125 g/L"),  # as entered, with its unit
        ("LBHEM", "LBHEM[1].HGB", "12.5", "12.5 g/dL"),  # the standard unit
        ("TUBL", "TL[2].ORGAN", "LIVER", "Liver"),  # a row of a repeating group
        ("LVEF", "LVEF[1].LVEFDAT", "2025-01-02", "2025-01-02"),
    ],
)
def test_a_recorded_value_reads_as_on_the_form(study, form, path, text, shown):
    assert describe_recorded(study, form, path, text) == shown


@pytest.mark.parametrize(
    ("form", "path", "text"),
    [
        ("LVEF", "LVEF[1].LVEF", "abc"),  # not of the item's type (an older definition)
        ("LVEF", "LVEF[1].GONE", "x"),  # an item no longer defined
        ("LVEF", "LVEF[1].LVEFMETH", "OLDCODE"),  # a code no longer in its list
        ("LBHEM", "LBHEM[1].HGB", "125 furlongs"),  # a unit the item does not know
        ("LVEF", "not a path", "x"),
        ("LVEF", "LVEF[1].LVEF", "[XYZ]"),  # brackets that are no missing-data code
    ],
)
def test_what_the_definition_cannot_explain_is_shown_as_recorded(study, form, path, text):
    assert describe_recorded(study, form, path, text) == text


def test_a_corrected_month_3_response_or_pet_iv_date_reruns_what_reads_it(study):
    entries = [("SCR", 1, "TUBL"), ("PETIV", 1, "PETIV"), ("M3", 1, "TRM3"), ("M6", 1, "TRM6")]
    scope = study.rules.reach(entries, [("M3", 1, "TRM3", "OVRLRESP")], None)
    assert (("M6", 1, "TRM6"), "BESTRESP") in scope.derivations
    assert (("M6", 1, "TRM6"), "BESTWHY") in scope.derivations
    scope = study.rules.reach(entries, [("PETIV", 1, "PETIV", "PETDAT")], None)
    assert (("SCR", 1, "TUBL"), "CT_BEFORE_FIRST_PET") in scope.checks
    assert (("SCR", 1, "TUBL"), "MRI_BEFORE_FIRST_PET") in scope.checks
