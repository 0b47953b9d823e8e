"""The analytes a laboratory can declare: those the trial's lab forms capture (their items
annotated SDTM ``LB.LBORRES[TESTCD]``), each with the units its item accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecrf.records.loader import LoadedStudy

#: A result: SDTM LB.LBORRES[TESTCD], or LB.LBORRES alone (the item's OID is its TESTCD).
_RESULT = re.compile(r"^LB\.LBORRES(?:\[(\w+)\])?$")


@dataclass(frozen=True)
class Analyte:
    testcd: str
    label: str
    #: (UCUM symbol or units text, how people write it), the standard unit first.
    units: tuple[tuple[str, str], ...]

    def unit_label(self, symbol: str) -> str:
        return next((label for s, label in self.units if s == symbol), symbol)


def analytes(study: LoadedStudy) -> dict[str, Analyte]:
    """LBTESTCD → the analyte, in the order of the forms."""
    found: dict[str, Analyte] = {}
    for form in study.forms.values():
        for _, item in form.items():
            match = _RESULT.match(item.sdtm or "")
            testcd = match.group(1) or item.oid if match else None
            if testcd is None or testcd in found:
                continue
            if item.multi_unit:
                choices = tuple((u.symbol, u.label) for u in item.measured_in)
            else:
                choices = ((item.units or "", item.units or "no unit"),)
            found[testcd] = Analyte(testcd, item.label, choices)
    return found
