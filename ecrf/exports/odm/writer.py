"""``write_odm``: the study's metadata, its people and places, and its clinical data as one
CDISC ODM 1.3.2 snapshot, streamed subject by subject (constant memory)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from importlib.metadata import PackageNotFoundError, version
from io import BytesIO
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from lxml import etree

from ecrf.audit.models import AuditEvent
from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import can_everywhere, require_permission
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.errors import PermissionDenied
from ecrf.exports.odm import oids
from ecrf.exports.odm.metadata import _e, study_element
from ecrf.exports.privacy import is_free_text, withholds_free_text
from ecrf.exports.stream import RowRecord, iter_rows
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, Site, Subject, SubjectVisit
from forms.language import DataType

Progress = Callable[[int, int], None]

#: Audit actions that set an item's value (the latest one is the ItemData's AuditRecord).
VALUE_ACTIONS = ("item_entered", "item_changed", "item_cleared", "item_derived")

ORIGINATOR = "IAH-PRRT eCRF"

ALL_SITES_REFUSED = "You are not allowed to export the data of every site."


def write_odm(
    study: LoadedStudy,
    out: Path,
    *,
    site_ids: Collection[int] | None,
    actor: User | None,
    progress: Progress | None = None,
) -> Path:
    """Write an ODM 1.3.2 snapshot of ``study`` and the data of the sites ``site_ids``
    (None: all) to the file ``out``.

    Free text is withheld from readers who may not see it (``withholds_free_text``), and
    with it every free-text reason (for a change, a status, a deviation). Records the
    export in the audit trail and commits it.

    :param progress: called with (subjects written, subjects in scope) after each subject.
    :returns: ``out``.
    :raises PermissionDenied: ``actor`` may not export the data of every site asked for
        (checked here too, before anything is written, whoever the caller is).
    """
    _check_scope(actor, site_ids)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed when whole: a failure never leaves half a file as the result.
    partial = out.with_name(out.name + ".part")
    try:
        total, written = write_snapshot(
            study,
            str(partial),
            site_ids=site_ids,
            withhold=withholds_free_text(actor),
            progress=progress,
        )
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    record_event(
        "export",
        "extract",
        "odm",
        actor=actor,
        new=f"{out.name}: {written} subjects",
        definition_version=study.version,
    )
    db.session.commit()
    if progress is not None:
        progress(max(total, written), max(total, written))
    return out


def write_snapshot(
    study: LoadedStudy,
    target: str | BinaryIO,
    *,
    site_ids: Collection[int] | None,
    withhold: bool,
    subject: str | None = None,
    progress: Progress | None = None,
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
                    if progress is not None:
                        progress(written, max(total, written))
    return total, written


def subject_odm(study: LoadedStudy, identifier: str, site_id: int, *, withhold: bool) -> bytes:
    """One subject's ODM 1.3.2 file (the metadata of ``study``, its site and the people who
    recorded its data, its clinical data and their audit records), e.g. to attach to its
    casebook. No permission check, no audit event."""
    buffer = BytesIO()
    write_snapshot(study, buffer, site_ids=[site_id], withhold=withhold, subject=identifier)
    return buffer.getvalue()


def _check_scope(actor: User | None, site_ids: Collection[int] | None) -> None:
    if actor is None:
        return
    if site_ids is None:
        if not can_everywhere(actor, Perm.EXPORT_DATA):
            raise PermissionDenied(ALL_SITES_REFUSED)
        return
    for site_id in site_ids:
        require_permission(actor, Perm.EXPORT_DATA, site_id)


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
