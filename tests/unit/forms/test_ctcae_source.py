"""The CTCAE v5.0 terms of the adverse event log (forms/iahprrt/data/ctcae_v5_terms.csv) held
to the NCI spreadsheet they were checked against (tests/data/ctcae-v5.0-nci-extract.tsv, its
provenance in its header): for every term, its spelling, MedDRA code, system organ class and
the grades that exist (a "-" in a grade column: the grade does not exist)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms.iahprrt.ctcae_terms import Term, allowed_grades, terms

EXTRACT = Path(__file__).parents[2] / "data" / "ctcae-v5.0-nci-extract.tsv"
COLUMNS = ["MedDRA Code", "MedDRA SOC", "CTCAE Term", *(f"Grade {g}" for g in range(1, 6))]


def source_terms() -> dict[str, Term]:
    """The extract's rows as terms: the grades are the grade columns that are not "-"."""
    lines = [line for line in EXTRACT.read_text(encoding="utf-8").splitlines()]
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    assert rows[0] == COLUMNS
    found: dict[str, Term] = {}
    for code, soc, term, *cells in rows[1:]:
        assert len(cells) == 5 and all(cells), term
        grades = tuple(g for g, text in enumerate(cells, start=1) if text != "-")
        assert code not in found, code
        found[code] = Term(code, term, soc, grades)
    return found


SOURCE = source_terms()


def test_the_extract_holds_every_term_the_log_offers_and_no_other():
    assert len(SOURCE) == len(terms()) == 153
    assert set(SOURCE) == {t.code for t in terms()}


@pytest.mark.parametrize("term", terms(), ids=lambda t: t.code)
def test_each_term_is_the_spreadsheets_term_code_class_and_grades(term):
    assert term == SOURCE[term.code]


@pytest.mark.parametrize(
    ("code", "grades"),
    [
        ("10040047", (3, 4, 5)),  # Sepsis: grade 3 exists (blood culture positive, treated)
        ("10015919", (1, 2, 3, 4)),  # Eye disorders - Other, specify: no grade 5
        ("10024264", (1, 2)),  # Lethargy: no grade 3
        ("10062169", (1, 2, 3, 4, 5)),  # Vascular access complication: grade 1 exists
    ],
)
def test_the_grades_once_written_from_memory_are_the_spreadsheets(code, grades):
    """Grades that were wrong before the check against the spreadsheet."""
    assert SOURCE[code].grades == grades == allowed_grades(code)
