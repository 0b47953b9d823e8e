"""A value as the audit trail records it, read back as people read it on the form."""

from __future__ import annotations

import re
from decimal import InvalidOperation

from ecrf.records import fields
from ecrf.records.loader import LoadedStudy
from forms.language import MISSING_CODES

#: A missing-data code as the trail records it, in words ({label}: "Not done", {code}: "ND").
MISSING_WORDS = "{label} ({code})"

_FIELD = re.compile(r"^(?P<group>[^\[\]]+)\[(?P<key>\d+)\](?:\.(?P<item>.+))?$")
_MISSING = re.compile(r"^\[(?P<code>[A-Z]+)\]$")


def describe_recorded(study: LoadedStudy, form_oid: str, path: str | None, text: str) -> str:
    """``text`` as recorded for the item at ``path`` ("GROUP[key].ITEM") of ``form_oid``,
    as people read it: a code list's label, Yes/No, the value with its unit, a missing-data
    code's label ("[ND]" → "Not done (ND)"). Anything the definition no longer explains
    (an item since removed, a value of another type) is shown as recorded."""
    missing = _MISSING.match(text)
    if missing and missing["code"] in MISSING_CODES:
        code = missing["code"]
        return MISSING_WORDS.format(label=MISSING_CODES[code], code=code)
    match = _FIELD.match(path or "")
    if match is None or match["item"] is None or not study.has_item(form_oid, match["item"]):
        return text
    item = study.item(form_oid, match["item"])[1]
    value_text, unit = text, None
    if item.multi_unit:
        value_text, _, symbol = text.partition(" ")
        unit = symbol or None
        if unit is not None and item.unit(unit) is None:
            return text
    try:
        value = fields.load(item, value_text)
    except (ValueError, InvalidOperation):
        return text
    # A code since removed from its list reads as recorded (CodeList.label).
    return fields.display(item, value, study.codelist_for(item), unit) or text
