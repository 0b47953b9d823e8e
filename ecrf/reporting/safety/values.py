"""Reading the streamed rows of the safety report: a value's text, code label, date, time."""

from __future__ import annotations

from datetime import date, time

from ecrf.exports.stream import RowRecord
from ecrf.records.loader import LoadedStudy
from forms.language import MISSING_CODES


def text(row: RowRecord | None, item_oid: str | None) -> str | None:
    """The stored canonical text of the item, None when empty or a missing-data code."""
    if row is None or item_oid is None:
        return None
    record = row.values.get(item_oid)
    return record.value if record is not None and record.value else None


def missing(row: RowRecord | None, item_oid: str | None) -> str | None:
    """The missing-data code (NA, ND, UNK, NASK) given instead of a value, if any."""
    if row is None or item_oid is None:
        return None
    record = row.values.get(item_oid)
    return record.missing_code if record is not None else None


def as_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def as_date(value: str | None) -> date | None:
    """A complete ISO 8601 date, None for a partial or absent one."""
    if value is None or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def as_time(value: str | None) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        return None


def shown(study: LoadedStudy, form_oid: str, row: RowRecord | None, item_oid: str | None) -> str:
    """The value as people read it: a code's label, a missing-data code's meaning, or ""."""
    value = text(row, item_oid)
    if value is None:
        code = missing(row, item_oid)
        return MISSING_CODES.get(code, code) if code else ""
    if item_oid is None or not study.has_item(form_oid, item_oid):
        return value
    _, item = study.item(form_oid, item_oid)
    codelist = study.codelist_for(item)
    return codelist.label(value) if codelist is not None else value
