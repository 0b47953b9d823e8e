"""The CTCAE v5.0 terms the adverse event log is coded with (forms/iahprrt/ctcae_terms.py and
its data file): codes, system organ classes, the grades each term has, and the laboratory
terms' codes the "grade ≥ 3 without an adverse event" check matches on."""

from __future__ import annotations

import pytest

from forms.iahprrt.codelists import ALL_CODELISTS, LABTERM
from forms.iahprrt.ctcae_terms import (
    CTCAE,
    LAB_TERM_CODES,
    OTHER_SPECIFY_CODES,
    allowed_grades,
    parse_grades,
    term_of,
    terms,
)


def test_every_term_has_an_8_digit_meddra_code_once_a_class_and_grades():
    codes = [t.code for t in terms()]
    assert len(codes) == len(set(codes)) >= 140
    for t in terms():
        assert len(t.code) == 8 and t.code.startswith("100"), t
        assert t.soc and t.term and t.grades
        assert set(t.grades) <= {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("code", "term", "soc", "grades"),
    [
        ("10002272", "Anemia", "Blood and lymphatic system disorders", (1, 2, 3, 4, 5)),
        ("10001760", "Alopecia", "Skin and subcutaneous tissue disorders", (1, 2)),
        ("10011914", "Death NOS", "General disorders and administration site conditions", (5,)),
        ("10035528", "Platelet count decreased", "Investigations", (1, 2, 3, 4)),
        ("10016256", "Fatigue", "General disorders and administration site conditions", (1, 2, 3)),
        ("10040047", "Sepsis", "Infections and infestations", (3, 4, 5)),
        ("10069339", "Acute kidney injury", "Renal and urinary disorders", (3, 4, 5)),
        ("10042772", "Syncope", "Nervous system disorders", (3,)),
    ],
)
def test_terms_the_safety_rules_rest_on(code, term, soc, grades):
    found = term_of(code)
    assert (found.term, found.soc, found.grades) == (term, soc, grades)
    assert allowed_grades(code) == grades


def test_an_unknown_or_empty_code_has_no_grades():
    assert allowed_grades("10099999") is None
    assert allowed_grades(None) is None and term_of("") is None


@pytest.mark.parametrize(
    ("text", "grades"),
    [("1-5", (1, 2, 3, 4, 5)), ("5", (5,)), ("3-5", (3, 4, 5)), ("1,2,4,5", (1, 2, 4, 5))],
)
def test_grades_are_read_as_written(text, grades):
    assert parse_grades(text) == grades


@pytest.mark.parametrize("text", ["0-2", "1-6", "", "3-1", "2,2", "x"])
def test_grades_outside_1_to_5_or_out_of_order_are_refused(text):
    with pytest.raises(ValueError):
        parse_grades(text)


def test_grades_in_words():
    assert term_of("10001760").grades_text() == "1 to 2"
    assert term_of("10011914").grades_text() == "5 only"


def test_the_code_list_stores_the_code_and_groups_the_terms_by_class():
    assert CTCAE in ALL_CODELISTS
    assert CTCAE.label("10028813") == "Nausea"
    assert CTCAE.heading("10028813") == "Gastrointestinal disorders"
    assert {code for code, _ in CTCAE.codes} == {code for code, _ in CTCAE.groups}
    headings = [heading for _, heading in CTCAE.groups]
    # Each class's terms together (the page's option groups), its "Other, specify" last.
    assert headings == sorted(headings)
    blood = [label for code, label in CTCAE.codes if CTCAE.heading(code).startswith("Blood")]
    assert blood[-1] == "Blood and lymphatic system disorders - Other, specify"


def test_each_class_has_its_other_specify_term():
    classes = {t.soc for t in terms()}
    others = {term_of(code).soc for code in OTHER_SPECIFY_CODES}
    assert others == classes


def test_the_laboratory_terms_map_to_the_ctcae_terms_of_the_same_name():
    assert set(LAB_TERM_CODES) == {code for code, _ in LABTERM.codes}
    for lab, code in LAB_TERM_CODES.items():
        assert term_of(code).term == LABTERM.label(lab)


@pytest.mark.parametrize(
    ("code", "soc"),
    [
        ("10015919", "Eye disorders"),
        ("10013993", "Ear and labyrinth disorders"),
        ("10038604", "Reproductive system and breast disorders"),
        ("10010331", "Congenital, familial and genetic disorders"),
        ("10036585", "Pregnancy, puerperium and perinatal conditions"),
        ("10041244", "Social circumstances"),
        ("10042613", "Surgical and medical procedures"),
    ],
)
def test_an_event_of_any_class_can_be_coded_other_specify(code, soc):
    assert term_of(code).term == f"{soc} - Other, specify"
    # Grades 1 to 5, but an eye event has no grade 5 in CTCAE v5.0.
    assert allowed_grades(code) == ((1, 2, 3, 4) if soc == "Eye disorders" else (1, 2, 3, 4, 5))
    assert code in OTHER_SPECIFY_CODES and CTCAE.heading(code) == soc


def test_all_26_classes_of_ctcae_are_offered():
    assert len({t.soc for t in terms()}) == 26
