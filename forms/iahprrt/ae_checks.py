"""Edit checks of the adverse event log's coding: the CTCAE grade against the grades its
term has, and the relationship to 177Lu-dotatate against the sub-group (pure functions,
bound in logs.py; see checks.py for the conventions)."""

from __future__ import annotations

from forms.iahprrt.ctcae_terms import term_of


def grade_outside_term(code: str | None, grade: str | None) -> str | None:
    """A grade the CTCAE v5.0 term does not have (alopecia grade 3, death grade 2) is
    refused: the term or the grade is wrong."""
    term = term_of(code)
    if term is None or grade is None or not str(grade).isdigit():
        return None
    if int(grade) in term.grades:
        return None
    return (
        f"In CTCAE v5.0, {term.term} has grades {term.grades_text()}, not grade {grade}:"
        " choose one of its grades, or the term that describes the event."
        if len(term.grades) > 1
        else f"In CTCAE v5.0, {term.term} has grade {term.grades[0]} only, not grade {grade}:"
        " choose that grade, or the term that describes the event."
    )


def lutetium_relationship(therapy: str | None, relationship: str | None) -> str | None:
    """In the therapy sub-group every event is assessed against 177Lu-dotatate (one given
    before the administration is "Not related"); outside it, none was given."""
    if therapy == "Y" and relationship is None:
        return (
            "This patient is in the therapy sub-group: is the event related to the"
            " 177Lu-dotatate given by IAH? Please give the relationship (Not related when"
            " the event began before the administration)."
        )
    if therapy == "N" and relationship is not None and relationship != "NA":
        return (
            "This patient is in the imaging-only group and received no 177Lu-dotatate:"
            " should the relationship to 177Lu be left empty?"
        )
    return None
