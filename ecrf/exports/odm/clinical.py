"""One subject's ODM ``SubjectData`` (status history, visits, forms, item group rows, values
with their audit records and annotations), written as pretty-printed UTF-8 text.

Text, not an lxml tree: an export holds about six elements per value, and building and
serialising a tree of them cost ten times reading the values. The bytes are those lxml
wrote (``xmltext`` escapes as it does; ``tests/exports/test_odm_golden.py`` holds the two to
the same bytes). A subject's context (its visits, form entries, status changes and the audit
events behind its values) is read as plain rows, three statements a subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ecrf.audit.models import AuditEvent
from ecrf.exports.odm import oids
from ecrf.exports.odm.xmltext import attribute, text
from ecrf.exports.privacy import is_free_text
from ecrf.exports.stream import RowRecord
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, Subject, SubjectVisit
from forms.language import DataType, Item

#: Audit actions that set an item's value (the latest one is the ItemData's AuditRecord).
VALUE_ACTIONS = ("item_entered", "item_changed", "item_cleared", "item_derived")

#: The subject's visits with their form entries (one row per entry).
_VISITS = (
    sa.select(
        Subject.site_id,
        SubjectVisit.visit_oid,
        SubjectVisit.repeat_key,
        SubjectVisit.visit_date,
        SubjectVisit.out_of_window,
        SubjectVisit.deviation_reason,
        FormEntry.form_oid,
        FormEntry.id,
    )
    .join(Subject, Subject.id == SubjectVisit.subject_id)
    .outerjoin(FormEntry, FormEntry.visit_id == SubjectVisit.id)
    .where(Subject.identifier == sa.bindparam("identifier"))
)

_STATUSES = (
    sa.select(AuditEvent.new, AuditEvent.reason)
    .where(
        AuditEvent.entity == "subject",
        AuditEvent.entity_id == sa.bindparam("identifier"),
        AuditEvent.action == "subject_status_changed",
    )
    .order_by(AuditEvent.seq)
)

_VALUE_EVENTS = (
    sa.select(
        AuditEvent.entity_id,
        AuditEvent.field,
        AuditEvent.actor_id,
        AuditEvent.site_id,
        # Read as a plain timestamp: ``_stamp`` declares it UTC once per distinct time (a
        # form's save gives its values one), not once per value.
        sa.type_coerce(AuditEvent.at, sa.DateTime(timezone=True)),
        AuditEvent.reason,
    )
    .where(
        AuditEvent.entity == "form_entry",
        AuditEvent.entity_id.in_(sa.bindparam("entries", expanding=True)),
        AuditEvent.action.in_(VALUE_ACTIONS),
    )
    .order_by(AuditEvent.seq)
)


class _Visit(NamedTuple):
    repeat_key: int
    visit_date: date | None
    out_of_window: bool
    deviation_reason: str | None


class _ItemSpec(NamedTuple):
    """What writing one item's value needs from the definition, looked up once."""

    oid: str
    #: The ItemData start tag up to its value, and the one of a value missing.
    with_value: str
    is_null: str
    time: bool
    #: The MeasurementUnitRef of an item measured in one unit ("" for none).
    unit_ref: str
    #: Measured in several units: the ref names the unit each value was entered in.
    multi_unit: bool
    item: Item


class _GroupSpec(NamedTuple):
    group_oid: str  # escaped
    repeating: bool
    items: tuple[_ItemSpec, ...]


class ClinicalWriter:
    """Writes each subject's ``SubjectData`` for one export (its scope's sites and the users
    of its audit records given)."""

    def __init__(
        self,
        study: LoadedStudy,
        connection: Connection,
        *,
        withhold: bool,
        site_codes: Mapping[int, str],
        usernames: Mapping[int, str],
    ) -> None:
        self.study = study
        self.connection = connection
        self.withhold = withhold
        self.site_codes = site_codes
        self.user_oids = {uid: attribute(oids.user_oid(name)) for uid, name in usernames.items()}
        self._groups: dict[tuple[str, str], _GroupSpec] = {}
        self._locations: dict[str, str] = {}
        self._units: dict[str, str] = {}
        #: The current subject's AuditRecords up to their reason, by (actor, site, time).
        self._records: dict[tuple, str] = {}
        self._events = {oid: attribute(oids.event_oid(oid)) for oid in study.visits}
        self._unscheduled = {
            oid for oid, v in study.visits.items() if v.kind.value == "unscheduled"
        }

    def subject_data(self, identifier: str, rows: Iterable[RowRecord]) -> str:
        """The ``SubjectData`` of ``identifier``, from its ``rows`` (in the stream's order)."""
        visits: dict[tuple[str, int], _Visit] = {}
        entries: dict[tuple[str, int, str], str] = {}
        site_id = None
        for row in self.connection.execute(_VISITS, {"identifier": identifier}):
            site_id = row[0]
            visits[(row[1], row[2])] = _Visit(row[2], row[3], row[4], row[5])
            if row[7] is not None:
                entries[(row[1], row[2], row[6])] = str(row[7])
        site_code = self.site_codes[site_id]
        audit = self._value_audit(entries.values())
        self._records.clear()
        out = [
            f'<SubjectData xmlns="{oids.NS}" SubjectKey="{attribute(identifier)}">\n',
            f'  <SiteRef LocationOID="{self._location(site_code)}"/>\n',
        ]
        statuses = self.connection.execute(_STATUSES, {"identifier": identifier})
        for seq, (status, reason) in enumerate(statuses, start=1):
            self._annotation(
                out, "  ", seq, oids.SUBJECT_STATUS, oids.SUBJECT_STATUSES, status, reason
            )
        for (visit_oid, repeat), visit_rows in groupby(
            rows, attrgetter("visit_oid", "visit_repeat")
        ):
            visit = visits[(visit_oid, repeat)]
            self._event(out, visit_oid, visit, visit_rows, entries, audit, site_code)
        out.append("</SubjectData>\n")
        return "".join(out)

    def _value_audit(self, entry_ids: Iterable[str]) -> dict[str, dict[str, Row]]:
        """Entry id → field path → the event that set the value it holds now."""
        ids = list(entry_ids)
        audit: dict[str, dict[str, Row]] = {entry: {} for entry in ids}
        if ids:
            for event in self.connection.execute(_VALUE_EVENTS, {"entries": ids}).all():
                audit[event[0]][event[1]] = event
        return audit

    def _annotation(self, out, indent, seq, flag_type, codelist, value, comment=None) -> None:
        out.append(f'{indent}<Annotation SeqNum="{seq}">\n')
        if comment and not self.withhold:
            out.append(f'{indent}  <Comment SponsorOrSite="Site">{text(comment)}</Comment>\n')
        out.append(f"{indent}  <Flag>\n")
        if value is None:
            out.append(f'{indent}    <FlagValue CodeListOID="{codelist}"/>\n')
        else:
            out.append(
                f'{indent}    <FlagValue CodeListOID="{codelist}">{text(value)}</FlagValue>\n'
            )
        out.append(
            f'{indent}    <FlagType CodeListOID="{oids.FLAG_TYPES}">{flag_type}</FlagType>\n'
            f"{indent}  </Flag>\n{indent}</Annotation>\n"
        )

    def _event(self, out, visit_oid, visit: _Visit, rows, entries, audit, site_code) -> None:
        repeat = (
            f' StudyEventRepeatKey="{visit.repeat_key}"' if visit_oid in self._unscheduled else ""
        )
        out.append(f'  <StudyEventData StudyEventOID="{self._events[visit_oid]}"{repeat}>\n')
        if visit.visit_date is not None:
            self._annotation(
                out, "    ", 1, oids.VISIT_DATE, oids.ISO_DATES, visit.visit_date.isoformat()
            )
            if visit.out_of_window:
                self._annotation(
                    out, "    ", 2, oids.OUT_OF_WINDOW, oids.YES_NO_FLAG, "Y",
                    visit.deviation_reason,
                )  # fmt: skip
        for form, form_rows in groupby(rows, attrgetter("form_oid")):
            first = next(form_rows)
            entry_id = entries[(visit_oid, visit.repeat_key, form)]
            out.append(f'    <FormData FormOID="{attribute(oids.form_oid(form))}">\n')
            self._annotation(
                out, "      ", 1, oids.FORM_STATUS, oids.FORM_STATUSES, first.entry_status
            )
            for row in (first, *form_rows):
                self._group(out, row, entry_id, audit, site_code)
            out.append("    </FormData>\n")
        out.append("  </StudyEventData>\n")

    def _group(self, out: list[str], row: RowRecord, entry_id, audit, site_code) -> None:
        spec = self._group_spec(row.form_oid, row.group_oid)
        head = f'      <ItemGroupData ItemGroupOID="{spec.group_oid}"'
        if spec.repeating:
            head += f' ItemGroupRepeatKey="{row.repeat_key}"'
        items: list[str] = []
        prefix = f"{row.group_oid}[{row.repeat_key}]."
        events = audit.get(entry_id, {})
        values = row.values
        # In the definition's order, whatever order the values were first saved in.
        for spec_item in spec.items:
            record = values.get(spec_item.oid)
            if record is None:
                continue
            value = record.value
            if value is None:
                if record.missing_code is None:
                    continue  # cleared: nothing to say in a snapshot
                data = spec_item.is_null
            else:
                if spec_item.time:
                    value = f"{value}:00"  # ODM times carry seconds
                data = f'{spec_item.with_value}{attribute(value)}"'
            event = events.get(prefix + spec_item.oid)
            inner = "" if event is None else self._audit_record(event, site_code)
            if value is not None:
                if spec_item.multi_unit:  # the unit it was entered in
                    unit = record.unit or spec_item.item.standard_unit.symbol
                    inner += self._unit_ref(unit)
                else:
                    inner += spec_item.unit_ref
            if record.missing_code:
                annotation: list[str] = []
                self._annotation(
                    annotation, "          ", 1, oids.MISSING_CODE, oids.MISSING_CODES,
                    record.missing_code,
                )  # fmt: skip
                inner += "".join(annotation)
            items.append(f"{data}>\n{inner}        </ItemData>\n" if inner else f"{data}/>\n")
        if items:
            out.append(head + ">\n")
            out.extend(items)
            out.append("      </ItemGroupData>\n")
        else:
            out.append(head + "/>\n")

    def _audit_record(self, event: Row, site_code: str) -> str:
        _, _, actor_id, site_id, at, reason = event
        key = (actor_id, site_id, at)
        record = self._records.get(key)
        if record is None:
            user = self.user_oids.get(actor_id, oids.OPERATOR_USER)
            location = self._location(self.site_codes.get(site_id, site_code))
            record = self._records[key] = (
                "          <AuditRecord>\n"
                f'            <UserRef UserOID="{user}"/>\n'
                f'            <LocationRef LocationOID="{location}"/>\n'
                f"            <DateTimeStamp>{_stamp(at)}</DateTimeStamp>\n"
            )
        if reason and not self.withhold:
            record += f"            <ReasonForChange>{text(reason)}</ReasonForChange>\n"
        return record + "          </AuditRecord>\n"

    def _group_spec(self, form_oid: str, group_oid: str) -> _GroupSpec:
        spec = self._groups.get((form_oid, group_oid))
        if spec is None:
            group = self.study.group(form_oid, group_oid)
            items = []
            for item in group.items:
                if self.withhold and is_free_text(item):
                    continue  # never written to this reader
                start = (
                    f'        <ItemData ItemOID="{attribute(oids.item_oid(form_oid, item.oid))}"'
                )
                multi = item.multi_unit
                items.append(
                    _ItemSpec(
                        item.oid,
                        f'{start} Value="',
                        f'{start} IsNull="Yes"',
                        item.type is DataType.TIME,
                        self._unit_ref(item.units) if item.units and not multi else "",
                        multi,
                        item,
                    )
                )
            spec = _GroupSpec(
                attribute(oids.group_oid(form_oid, group_oid)), group.repeating, tuple(items)
            )
            self._groups[(form_oid, group_oid)] = spec
        return spec

    def _location(self, site_code: str) -> str:
        if site_code not in self._locations:
            self._locations[site_code] = attribute(oids.location_oid(site_code))
        return self._locations[site_code]

    def _unit_ref(self, symbol: str | None) -> str:
        if not symbol:
            return ""
        if symbol not in self._units:
            self._units[symbol] = (
                "          <MeasurementUnitRef "
                f'MeasurementUnitOID="{attribute(oids.unit_oid(symbol))}"/>\n'
            )
        return self._units[symbol]


def _stamp(at: datetime) -> str:
    """An audit event's time in ISO 8601, read as ``ecrf.db.UTCDateTime`` reads it (naive,
    from SQLite: UTC; aware: converted to UTC)."""
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).isoformat()
