"""The ODM writer as it was before it wrote text (an lxml tree per subject, serialised by
``etree.xmlfile``): the oracle the streamed writer must match byte for byte."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from importlib.metadata import PackageNotFoundError, version
from itertools import groupby
from operator import attrgetter
from typing import BinaryIO

import sqlalchemy as sa
from lxml import etree

from ecrf.audit.models import AuditEvent
from ecrf.auth.models import User
from ecrf.db import utcnow
from ecrf.exports.odm import oids
from ecrf.exports.odm.metadata import _e, study_element
from ecrf.exports.privacy import is_free_text
from ecrf.exports.stream import RowRecord, iter_rows
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, Site, Subject, SubjectVisit
from forms.language import DataType

VALUE_ACTIONS = ("item_entered", "item_changed", "item_cleared", "item_derived")
ORIGINATOR = "IAH-PRRT eCRF"


def write_snapshot(
    study: LoadedStudy,
    target: str | BinaryIO,
    *,
    site_ids: Collection[int] | None,
    withhold: bool,
    subject: str | None = None,
) -> tuple[int, int]:
    """Write the ODM snapshot of ``study`` (all subjects of ``site_ids``, or the one
    ``subject``) to a file name or a binary stream; no permission check and no audit event
    (callers do both).

    :returns: (subjects in scope, subjects written).
    """
    context = _Context(study, site_ids, withhold=withhold)
    count = _scoped(sa.select(sa.func.count(Subject.id)), site_ids)
    if subject is not None:
        count = count.where(Subject.identifier == subject)
    total = db.session.scalar(count) or 0
    written = 0
    now = utcnow().replace(microsecond=0)
    root_attrs = {
        "FileType": "Snapshot",
        "Granularity": "All" if subject is None else "SingleSubject",
        "FileOID": f"ODM.{study.study.oid}.{now:%Y%m%dT%H%M%SZ}",
        "CreationDateTime": now.isoformat(),
        "ODMVersion": oids.ODM_VERSION,
        "Originator": ORIGINATOR,
        "SourceSystem": "ecrf",
        "SourceSystemVersion": _version(),
    }
    with etree.xmlfile(target, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{oids.NS}}}ODM", root_attrs, nsmap={None: oids.NS}):
            xf.write(study_element(study), pretty_print=True)
            xf.write(context.admin_data(), pretty_print=True)
            with xf.element(
                f"{{{oids.NS}}}ClinicalData",
                {
                    "StudyOID": oids.study_oid(study.study.oid),
                    "MetaDataVersionOID": oids.mdv_oid(study.version),
                },
            ):
                xf.write("\n")
                rows = iter_rows(site_ids, subject=subject)
                for identifier, subject_rows in groupby(rows, lambda r: r.subject):
                    xf.write(context.subject_data(identifier, subject_rows), pretty_print=True)
                    written += 1
    return total, written


def _version() -> str:
    try:
        return version("ecrf")
    except PackageNotFoundError:
        return "unknown"


def _scoped(query, site_ids: Collection[int] | None):
    return query if site_ids is None else query.where(Subject.site_id.in_(list(site_ids)))


class _Context:
    """What the writer needs beside the value stream: sites, users, and per subject its
    visits, form entries and audit events (read one subject at a time)."""

    def __init__(self, study: LoadedStudy, site_ids: Collection[int] | None, *, withhold: bool):
        self.study = study
        self.withhold = withhold
        site_query = sa.select(Site).order_by(Site.code)
        if site_ids is not None:
            site_query = site_query.where(Site.id.in_(list(site_ids)))
        self.sites = list(db.session.scalars(site_query))
        self.site_codes = {site.id: site.code for site in self.sites}
        self.site_ids = site_ids
        self.users = self._users()

    def _users(self) -> dict[int, User]:
        query = sa.select(AuditEvent.actor_id).where(
            AuditEvent.entity.in_(("form_entry", "subject", "visit")),
            AuditEvent.actor_id.is_not(None),
        )
        if self.site_ids is not None:
            query = query.where(AuditEvent.site_id.in_(list(self.site_ids)))
        ids = set(db.session.scalars(query.distinct()))
        users = db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.username))
        return {user.id: user for user in users}

    def admin_data(self) -> etree._Element:
        admin = _e("AdminData", {"StudyOID": oids.study_oid(self.study.study.oid)})
        operator = _e("User", {"OID": oids.OPERATOR_USER, "UserType": "Other"}, parent=admin)
        _e("DisplayName", parent=operator, text="Command-line operator")
        for user in self.users.values():
            node = _e("User", {"OID": oids.user_oid(user.username)}, parent=admin)
            _e("LoginName", parent=node, text=user.username)
            _e("DisplayName", parent=node, text=user.full_name)
        for site in self.sites:
            location = _e(
                "Location",
                {"OID": oids.location_oid(site.code), "Name": site.name, "LocationType": "Site"},
                parent=admin,
            )
            _e(
                "MetaDataVersionRef",
                {
                    "StudyOID": oids.study_oid(self.study.study.oid),
                    "MetaDataVersionOID": oids.mdv_oid(self.study.version),
                    "EffectiveDate": site.created_at.date().isoformat(),
                },
                parent=location,
            )
        return admin

    # --- one subject ----------------------------------------------------------------------

    def subject_data(self, identifier: str, rows: Iterator[RowRecord]) -> etree._Element:
        subject = db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier))
        visits = {
            (v.visit_oid, v.repeat_key): v
            for v in db.session.scalars(
                sa.select(SubjectVisit).where(SubjectVisit.subject_id == subject.id)
            )
        }
        entries = {
            (visit_oid, repeat, form): entry_id
            for entry_id, visit_oid, repeat, form in db.session.execute(
                sa.select(
                    FormEntry.id,
                    SubjectVisit.visit_oid,
                    SubjectVisit.repeat_key,
                    FormEntry.form_oid,
                )
                .join(SubjectVisit, SubjectVisit.id == FormEntry.visit_id)
                .where(SubjectVisit.subject_id == subject.id)
            )
        }
        audit = self._value_audit(entries.values())
        node = _e("SubjectData", {"SubjectKey": identifier})
        site_code = self.current_site = self.site_codes[subject.site_id]
        _e("SiteRef", {"LocationOID": oids.location_oid(site_code)}, parent=node)
        statuses = db.session.execute(
            sa.select(AuditEvent.new, AuditEvent.reason)
            .where(
                AuditEvent.entity == "subject",
                AuditEvent.entity_id == identifier,
                AuditEvent.action == "subject_status_changed",
            )
            .order_by(AuditEvent.seq)
        )
        seq = 0
        for seq, (status, reason) in enumerate(statuses, start=1):
            self._annotation(node, seq, oids.SUBJECT_STATUS, oids.SUBJECT_STATUSES, status, reason)
        for (visit_oid, repeat), visit_rows in groupby(
            rows, attrgetter("visit_oid", "visit_repeat")
        ):
            self._event(node, visits[(visit_oid, repeat)], visit_rows, entries, audit)
        return node

    def _value_audit(self, entry_ids) -> dict[tuple[str, str], AuditEvent]:
        """(entry id, field path) → the event that set the value it holds now."""
        ids = [str(i) for i in entry_ids]
        if not ids:
            return {}
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.entity == "form_entry",
                AuditEvent.entity_id.in_(ids),
                AuditEvent.action.in_(VALUE_ACTIONS),
            )
            .order_by(AuditEvent.seq)
        )
        return {(event.entity_id, event.field): event for event in events}

    def _annotation(self, parent, seq, flag_type, codelist, value, comment=None) -> None:
        annotation = _e("Annotation", {"SeqNum": str(seq)}, parent=parent)
        if comment and not self.withhold:
            _e("Comment", {"SponsorOrSite": "Site"}, parent=annotation, text=comment)
        flag = _e("Flag", parent=annotation)
        _e("FlagValue", {"CodeListOID": codelist}, parent=flag, text=value)
        _e("FlagType", {"CodeListOID": oids.FLAG_TYPES}, parent=flag, text=flag_type)

    def _event(self, parent, visit: SubjectVisit, rows, entries, audit) -> None:
        definition = self.study.visits[visit.visit_oid]
        attrs = {"StudyEventOID": oids.event_oid(visit.visit_oid)}
        if definition.kind.value == "unscheduled":
            attrs["StudyEventRepeatKey"] = str(visit.repeat_key)
        event = _e("StudyEventData", attrs, parent=parent)
        if visit.visit_date is not None:
            self._annotation(
                event, 1, oids.VISIT_DATE, oids.ISO_DATES, visit.visit_date.isoformat()
            )
            if visit.out_of_window:
                self._annotation(
                    event, 2, oids.OUT_OF_WINDOW, oids.YES_NO_FLAG, "Y", visit.deviation_reason
                )
        for form, form_rows in groupby(rows, lambda r: r.form_oid):
            first = next(form_rows)
            entry_id = str(entries[(visit.visit_oid, visit.repeat_key, form)])
            node = _e("FormData", {"FormOID": oids.form_oid(form)}, parent=event)
            self._annotation(node, 1, oids.FORM_STATUS, oids.FORM_STATUSES, first.entry_status)
            for row in (first, *form_rows):
                self._group(node, row, entry_id, audit)

    def _group(self, parent, row: RowRecord, entry_id: str, audit) -> None:
        group = self.study.group(row.form_oid, row.group_oid)
        attrs = {"ItemGroupOID": oids.group_oid(row.form_oid, row.group_oid)}
        if group.repeating:
            attrs["ItemGroupRepeatKey"] = str(row.repeat_key)
        node = _e("ItemGroupData", attrs, parent=parent)
        # In the definition's order, whatever order the values were first saved in.
        for item in group.items:
            record = row.values.get(item.oid)
            if record is None or (self.withhold and is_free_text(item)):
                continue
            if record.value is None and record.missing_code is None:
                continue  # cleared: nothing to say in a snapshot
            value = record.value
            if value is not None and item.type is DataType.TIME:
                value = f"{value}:00"  # ODM times carry seconds
            data = _e(
                "ItemData",
                {"ItemOID": oids.item_oid(row.form_oid, item.oid), "Value": value}
                | ({} if value is not None else {"IsNull": "Yes"}),
                parent=node,
            )
            event = audit.get((entry_id, f"{row.group_oid}[{row.repeat_key}].{item.oid}"))
            if event is not None:
                self._audit_record(data, event)
            unit = item.units
            if item.multi_unit:  # the unit it was entered in
                unit = record.unit or item.standard_unit.symbol
            if unit and value is not None:
                _e("MeasurementUnitRef", {"MeasurementUnitOID": oids.unit_oid(unit)}, parent=data)
            if record.missing_code:
                self._annotation(
                    data, 1, oids.MISSING_CODE, oids.MISSING_CODES, record.missing_code
                )

    def _audit_record(self, parent, event: AuditEvent) -> None:
        record = _e("AuditRecord", parent=parent)
        user = self.users.get(event.actor_id) if event.actor_id is not None else None
        _e(
            "UserRef",
            {"UserOID": oids.user_oid(user.username) if user else oids.OPERATOR_USER},
            parent=record,
        )
        site_code = self.site_codes.get(event.site_id, self.current_site)
        _e("LocationRef", {"LocationOID": oids.location_oid(site_code)}, parent=record)
        _e("DateTimeStamp", parent=record, text=event.at.isoformat())
        if event.reason and not self.withhold:
            _e("ReasonForChange", parent=record, text=event.reason)
