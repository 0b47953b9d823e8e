"""The CTCAE v5.0 terms an adverse event is coded with: MedDRA code, term, system organ
class and the grades the term has.

The terms are data (data/ctcae_v5_terms.csv, its provenance in its header). What the
adverse event log needs from them:
- ``CTCAE``: the code list of the term item (code = the MedDRA LLT code, the value
  stored; label = the CTCAE term; grouped by system organ class on the page);
- ``Term.grades`` / ``allowed_grades``: the grades the term has (a grade it lacks is refused
  at the grade field: ``ae_checks.grade_outside_term``);
- ``LAB_TERM_CODES``: the laboratory terms the lab forms grade (code list LABTERM), by
  their MedDRA code, so that "grade ≥ 3 without an adverse event" matches on the coded term.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from forms.language import CodeList

_DATA = "data/ctcae_v5_terms.csv"

#: The suffix CTCAE gives each system organ class's catch-all term.
OTHER_SPECIFY = " - Other, specify"


@dataclass(frozen=True)
class Term:
    code: str  # MedDRA LLT code, 8 digits
    term: str
    soc: str
    grades: tuple[int, ...]

    @property
    def other_specify(self) -> bool:
        """The SOC's catch-all term: the reported term says what the event was."""
        return self.term.endswith(OTHER_SPECIFY)

    def grades_text(self) -> str:
        """The grades in words: "1 to 3", "5 only", "1, 2, 4 and 5"."""
        g = self.grades
        if len(g) == 1:
            return f"{g[0]} only"
        if list(g) == list(range(g[0], g[-1] + 1)):
            return f"{g[0]} to {g[-1]}"
        return ", ".join(str(x) for x in g[:-1]) + f" and {g[-1]}"


def parse_grades(text: str) -> tuple[int, ...]:
    """ "1-5" → (1, 2, 3, 4, 5); "1,2,4,5" → (1, 2, 4, 5); "5" → (5,)."""
    grades: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        grades.extend(range(int(low), int(high or low) + 1))
    if not grades or any(g not in range(1, 6) for g in grades) or grades != sorted(set(grades)):
        raise ValueError(f"not a set of CTCAE grades: {text!r}")
    return tuple(grades)


@cache
def terms() -> tuple[Term, ...]:
    text = files("forms.iahprrt").joinpath(_DATA).read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    loaded = tuple(
        Term(r["meddra_code"], r["term"], r["soc"], parse_grades(r["grades"])) for r in rows
    )
    for t in loaded:
        if len(t.code) != 8 or not t.code.isdigit():
            raise ValueError(f"{t.term}: {t.code!r} is not an 8-digit MedDRA code")
    if len({t.code for t in loaded}) != len(loaded):
        raise ValueError(f"{_DATA}: a MedDRA code is listed twice")
    return loaded


@cache
def grades_by_code() -> dict[str, tuple[str, ...]]:
    """The grades each term has, as the grade item's codes: what the page offers."""
    return {t.code: tuple(str(g) for g in t.grades) for t in terms()}


@cache
def by_code() -> dict[str, Term]:
    return {t.code: t for t in terms()}


def term_of(code: str | None) -> Term | None:
    return by_code().get(code) if code else None


def _sorted_terms() -> list[Term]:
    """By system organ class, then term; each class's "Other, specify" last."""
    return sorted(terms(), key=lambda t: (t.soc, t.other_specify, t.term.lower()))


#: The term item's code list: the stored value is the MedDRA code; the page groups the
#: options by system organ class (``CodeList.groups``).
CTCAE = CodeList(
    "CTCAE",
    "CTCAE v5.0 term (MedDRA LLT code)",
    tuple((t.code, t.term) for t in _sorted_terms()),
    groups=tuple((t.code, t.soc) for t in _sorted_terms()),
)

#: The codes of the "Other, specify" terms (the reported term is then required).
OTHER_SPECIFY_CODES: tuple[str, ...] = tuple(t.code for t in terms() if t.other_specify)

#: The laboratory terms of code list LABTERM (graded by the lab forms) → MedDRA code.
LAB_TERM_CODES: dict[str, str] = {
    "ANEMIA": "10002272",
    "NEUTDEC": "10029366",
    "PLATDEC": "10035528",
    "LYMDEC": "10025256",
    "WBCDEC": "10049182",
    "ALTINC": "10001551",
    "ASTINC": "10003481",
    "BILIINC": "10005364",
    "ALPINC": "10001675",
    "GGTINC": "10056910",
    "CREATINC": "10011368",
    "HYPOALB": "10020943",
}


def allowed_grades(code: str | None) -> tuple[int, ...] | None:
    """The grades of the term, or None when the code is not a listed term."""
    term = term_of(code)
    return term.grades if term else None
