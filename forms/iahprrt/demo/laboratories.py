"""The demo sites' laboratories as their registries hold them: the unit each analyte is
reported in (French units where the site's laboratory uses them) and its normal limits, in
that unit, from the site's figures (:mod:`.sites`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from forms.iahprrt.demo.record import _UNITS, in_unit
from forms.iahprrt.demo.sites import LABS
from forms.iahprrt.demo.steps import DeclaredLaboratory, DeclaredRange
from forms.iahprrt.study import STUDY

#: Since when the demo laboratories' ranges hold (before any demo patient's sample).
VALID_FROM = date(2020, 1, 1)

_FORMS = {f.oid: f for f in STUDY.forms}


def laboratory(site: str) -> DeclaredLaboratory:
    """The laboratory of ``site`` (the default one for a site the demo does not describe)."""
    lab = LABS.get(site, LABS["*"])
    ranges: list[DeclaredRange] = []
    for form_oid, limit_oid, figures in _limits(lab):
        item = next(i for _, i in _FORMS[form_oid].items() if i.oid == limit_oid)
        which, testcd = item.sdtm.split(".")[1].split("[")
        testcd = testcd.rstrip("]")
        units, leader = _UNITS.get((form_oid, limit_oid), ({}, limit_oid))
        symbol = lab["CREATU"] if leader == "CREAT" else lab.get("UNITS", {}).get(leader)
        for sex, value in figures.items():
            if units and symbol and leader != "CREAT":  # figures in the standard unit
                value = in_unit(Decimal(value), units[symbol])
            # The unit reported in, else the standard one (the first); one-unit items: theirs.
            unit = (symbol or next(iter(units))) if units else (item.units or "")
            text = format(Decimal(value), "f")
            low, high = (text, "") if which == "LBORNRLO" else ("", text)
            ranges.append(DeclaredRange(testcd, unit, low, high, sex))
    return DeclaredLaboratory(lab["NAME"], VALID_FROM, tuple(ranges))


def _limits(lab: dict[str, Any]):
    """(form, limit item, {sex or "": figure}) for each limit the site's figures give."""
    yield "LBHEM", "HGBLLN", dict(lab["HGBLLN"])
    for analyte in ("WBC", "NEUT", "LYM", "PLAT"):
        yield "LBHEM", f"{analyte}LLN", {"": lab["LLN"][analyte]}
    yield "LBCHEM", "CREATULN", dict(lab["CREATULN"])
    for analyte in ("ALT", "AST", "BILI", "ALP", "GGT"):
        yield "LBCHEM", f"{analyte}ULN", {"": lab["ULN"][analyte]}
    yield "LBCHEM", "ALBLLN", {"": lab["ALBLLN"]}
    yield "LBCHEM", "CGAULN", {"": lab["CGAULN"]}
    yield "COAG", "PTULN", {"": lab["PTULN"]}
