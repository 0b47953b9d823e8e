"""What every domain mapping needs: keys (USUBJID, visits), ISO 8601 dates and study days,
values read with the reader's privacy applied, and one subject's forms gathered by visit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from ecrf.exports.privacy import is_free_text
from ecrf.exports.stream import RowRecord
from ecrf.records.loader import LoadedStudy
from forms.language import VisitKind

#: VISITNUM of the first unscheduled visit; later ones follow (101, 102…).
UNSCHEDULED_BASE = 100


@dataclass
class FormData:
    """One form of one visit of a subject: its rows by item group OID."""

    visit_oid: str
    visit_repeat: int
    visit_date: date | None
    form_oid: str
    groups: dict[str, list[RowRecord]] = field(default_factory=lambda: defaultdict(list))

    def rows(self, group_oid: str) -> list[RowRecord]:
        return self.groups.get(group_oid, [])

    def row(self, group_oid: str) -> RowRecord | None:
        rows = self.groups.get(group_oid)
        return rows[0] if rows else None


def gather(rows: list[RowRecord]) -> list[FormData]:
    """A subject's rows as forms, in the order of the stream (visit, then form)."""
    forms: dict[tuple[str, int, str], FormData] = {}
    for row in rows:
        key = (row.visit_oid, row.visit_repeat, row.form_oid)
        data = forms.get(key)
        if data is None:
            data = forms[key] = FormData(
                row.visit_oid, row.visit_repeat, row.visit_date, row.form_oid
            )
        data.groups[row.group_oid].append(row)
    return list(forms.values())


class Context:
    """The study, the reader's privacy and each subject's reference start date."""

    def __init__(self, study: LoadedStudy, *, withhold_free_text: bool) -> None:
        self.study = study
        self.studyid = study.study.oid
        self.withhold_free_text = withhold_free_text
        self._visitnum = {
            v.oid: index
            for index, v in enumerate(
                (v for v in study.study.visits if v.kind is VisitKind.SCHEDULED), start=1
            )
        }
        #: USUBJID → RFSTDTC (a full date), filled while DM is written.
        self.reference_dates: dict[str, date] = {}

    # --- keys ---------------------------------------------------------------------------

    def usubjid(self, subject: str) -> str:
        return f"{self.studyid}-{subject}"

    def keys(self, domain: str, subject: str) -> dict[str, object]:
        return {"STUDYID": self.studyid, "DOMAIN": domain, "USUBJID": self.usubjid(subject)}

    def visit(self, form: FormData) -> dict[str, object]:
        """VISITNUM and VISIT; log forms (AE, CM…) belong to no visit."""
        definition = self.study.visits.get(form.visit_oid)
        if definition is None or definition.kind is VisitKind.LOG:
            return {"VISITNUM": None, "VISIT": ""}
        if definition.kind is VisitKind.UNSCHEDULED:
            return {
                "VISITNUM": UNSCHEDULED_BASE + form.visit_repeat,
                "VISIT": f"UNSCHEDULED {form.visit_repeat}",
            }
        return {"VISITNUM": self._visitnum[form.visit_oid], "VISIT": definition.name.upper()}

    # --- values -------------------------------------------------------------------------

    def value(self, row: RowRecord | None, item_oid: str) -> str:
        """The item's canonical text, "" when empty, missing or withheld free text."""
        if row is None:
            return ""
        record = row.values.get(item_oid)
        if record is None or record.value is None:
            return ""
        if self.withhold_free_text and self.study.has_item(row.form_oid, item_oid):
            _, item = self.study.item(row.form_oid, item_oid)
            if is_free_text(item):
                return ""
        return record.value

    def unit(self, row: RowRecord | None, item_oid: str) -> str | None:
        """The UCUM symbol of the unit the value was entered in (None: the standard unit)."""
        record = row.values.get(item_oid) if row is not None else None
        return record.unit if record is not None else None

    def missing(self, row: RowRecord | None, item_oid: str) -> str | None:
        record = row.values.get(item_oid) if row is not None else None
        return record.missing_code if record is not None else None

    def decode(self, codelist: str, code: str) -> str:
        """The code list's label, in upper case (SDTM's submission style), or ""."""
        if not code:
            return ""
        found = self.study.codelists.get(codelist)
        return (found.label(code) if found else code).upper()

    # --- dates --------------------------------------------------------------------------

    def study_day(self, usubjid: str, dtc: str) -> int | None:
        """--DY: day 1 is RFSTDTC, no day 0; None unless both dates are complete."""
        reference = self.reference_dates.get(usubjid)
        day = full_date(dtc)
        if reference is None or day is None:
            return None
        delta = (day - reference).days
        return delta + 1 if delta >= 0 else delta


def dtc(day: str, clock: str = "") -> str:
    """ISO 8601 date (partial as entered) with the time of day when both are known."""
    if day and clock and len(day) == 10:
        return f"{day}T{clock}"
    return day


def full_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None


def number(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros (7400.0 → "7400", 0.0123 → "0.0123")."""
    return format(value.normalize(), "f")
