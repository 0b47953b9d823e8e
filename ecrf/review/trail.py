"""The study-wide audit trail for data managers: every event of their sites, newest first,
filtered by subject, by who acted, by date and by form, a page at a time in a fixed number
of queries (whatever the number of subjects and events)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.models import User
from ecrf.extensions import db
from ecrf.locks.models import DataLock
from ecrf.queries.models import Query
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Finding, FormEntry, Site, Subject, SubjectVisit
from ecrf.review.scope import reaches, trail_sites
from ecrf.review.services import MAX_USER
from ecrf.sdv.models import SourceVerification
from ecrf.signatures.models import Signature

MESSAGES = {
    "subject": "No subject {value} at your sites.",
    "user": "A username has at most 80 characters.",
    "from": "Give the first day as YYYY-MM-DD.",
    "to": "Give the last day as YYYY-MM-DD.",
    "order": "The first day comes after the last.",
    "form": "The study has no form {value}.",
}
#: The subject identifiers' longest form (SITE-NNN fits easily).
MAX_SUBJECT = 20


@dataclass(frozen=True)
class TrailFilters:
    subject_id: int | None = None
    subject: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    form: str | None = None

    def args(self) -> dict[str, str]:
        values = {
            "subject": self.subject,
            "user": self.actor,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "form": self.form,
        }
        return {name: value for name, value in values.items() if value}


@dataclass
class ParsedTrail:
    filters: TrailFilters
    errors: dict[str, str] = field(default_factory=dict)


def _day(text: str) -> date | None:
    text = text.strip()
    if len(text) != 10 or not text.isascii():
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_filters(study: LoadedStudy, user: User, args: Mapping[str, str]) -> ParsedTrail:
    """The trail's filters from its query string; each one refused gets a message at its
    field and is left out."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    subject = (args.get("subject") or "").strip().upper()
    if subject:
        found = db.session.execute(
            sa.select(Subject.id, Subject.site_id).where(
                Subject.identifier == subject[:MAX_SUBJECT]
            )
        ).one_or_none()
        if found is None or not reaches(trail_sites(user), found.site_id):
            errors["subject"] = MESSAGES["subject"].format(value=subject[:MAX_SUBJECT])
        else:
            values.update(subject_id=found.id, subject=subject)
    actor = (args.get("user") or "").strip()
    if actor:
        if len(actor) > MAX_USER:
            errors["user"] = MESSAGES["user"]
        else:
            values["actor"] = actor
    for name, key in (("from", "date_from"), ("to", "date_to")):
        text = args.get(name) or ""
        if text.strip():
            day = _day(text)
            if day is None:
                errors[name] = MESSAGES[name]
            else:
                values[key] = day
    if "date_from" in values and "date_to" in values and values["date_from"] > values["date_to"]:  # type: ignore[operator]
        errors["to"] = MESSAGES["order"]
        del values["date_to"]
    form = (args.get("form") or "").strip()
    if form:
        if form not in study.forms:
            errors["form"] = MESSAGES["form"].format(value=form[:40])
        else:
            values["form"] = form
    return ParsedTrail(TrailFilters(**values), errors)  # type: ignore[arg-type]


def _ids(query: sa.Select) -> sa.Select:
    """Integer ids as the trail's entity ids (text)."""
    column = query.selected_columns[0]
    return query.with_only_columns(sa.cast(column, sa.String))


def events(user: User, filters: TrailFilters) -> sa.Select:
    """The events ``user`` reads through ``filters``, newest first (the page's rows are
    completed by :func:`with_context`)."""
    event = AuditEvent
    query = sa.select(event)
    sites = trail_sites(user)
    if sites is not None:
        query = query.where(event.site_id.in_(sorted(sites)))
    if filters.subject_id is not None:
        query = query.where(_about_subject(filters.subject_id, filters.subject or ""))
    if filters.actor:
        query = query.where(event.actor == filters.actor)
    if filters.date_from:
        query = query.where(event.at >= datetime.combine(filters.date_from, time(), UTC))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), UTC)
        query = query.where(event.at < end)
    if filters.form:
        query = query.where(
            sa.or_(
                sa.and_(
                    event.entity == "form_entry",
                    event.entity_id.in_(
                        _ids(sa.select(FormEntry.id).where(FormEntry.form_oid == filters.form))
                    ),
                ),
                sa.and_(
                    event.entity == "finding",
                    event.entity_id.in_(
                        _ids(
                            sa.select(Finding.id)
                            .join(FormEntry, Finding.entry_id == FormEntry.id)
                            .where(FormEntry.form_oid == filters.form)
                        )
                    ),
                ),
                sa.and_(
                    event.entity == "query",
                    event.entity_id.in_(
                        _ids(
                            sa.select(Query.id)
                            .join(FormEntry, Query.entry_id == FormEntry.id)
                            .where(FormEntry.form_oid == filters.form)
                        )
                    ),
                ),
            )
        )
    return query.order_by(event.seq.desc())


Row = tuple[AuditEvent, str | None, str | None, str | None, int | None, str | None]


def _entry_of(event: AuditEvent) -> int | None:
    """The form entry an event is about (None: not a form entry's)."""
    if event.entity != "form_entry" or not (event.entity_id or "").isdigit():
        return None
    return int(event.entity_id or "0")


def _entry_of(event: AuditEvent) -> int | None:
    """The form entry an event is about (None: not a form entry's)."""
    if event.entity != "form_entry" or not (event.entity_id or "").isdigit():
        return None
    return int(event.entity_id or "0")


def with_context(events: list[AuditEvent]) -> list[Row]:
    """(event, site code, subject, visit OID, visit repeat, form OID) for each of a page's
    events: the last four for the events of a form entry. Two queries, whatever the page."""
    entry_ids = sorted({entry for entry in map(_entry_of, events) if entry is not None})
    places = {
        row.id: tuple(row[1:])
        for row in db.session.execute(
            sa.select(
                FormEntry.id,
                Subject.identifier,
                SubjectVisit.visit_oid,
                SubjectVisit.repeat_key,
                FormEntry.form_oid,
            )
            .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
            .join(Subject, SubjectVisit.subject_id == Subject.id)
            .where(FormEntry.id.in_(entry_ids))
        )
    }
    site_ids = sorted({e.site_id for e in events if e.site_id is not None})
    codes = {
        site_id: code
        for site_id, code in db.session.execute(
            sa.select(Site.id, Site.code).where(Site.id.in_(site_ids))
        )
    }
    rows: list[Row] = []
    for e in events:
        entry = _entry_of(e)
        place = places.get(entry) if entry is not None else None
        rows.append((e, codes.get(e.site_id), *(place or (None, None, None, None))))
    return rows


def _about_subject(subject_id: int, identifier: str) -> sa.ColumnElement[bool]:
    """The events about one subject: itself, its visits, its forms, findings and queries,
    the verifications of its values, its signatures and the locks on its data (a site's or
    the study's locks are about no one subject)."""
    event = AuditEvent
    entries = (
        sa.select(FormEntry.id)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(SubjectVisit.subject_id == subject_id)
    )
    findings = sa.select(Finding.id).where(Finding.subject_id == subject_id)
    queries = sa.select(Query.id).where(Query.subject_id == subject_id)
    verifications = sa.select(SourceVerification.id).where(
        SourceVerification.subject_id == subject_id
    )
    signatures = sa.select(Signature.id).where(Signature.subject_id == subject_id)
    locks = sa.select(DataLock.id).where(DataLock.subject_id == subject_id)
    return sa.or_(
        sa.and_(event.entity == "subject", event.entity_id == identifier),
        sa.and_(event.entity == "visit", event.entity_id.like(identifier + "/%")),
        sa.and_(event.entity == "form_entry", event.entity_id.in_(_ids(entries))),
        sa.and_(event.entity == "finding", event.entity_id.in_(_ids(findings))),
        sa.and_(event.entity == "query", event.entity_id.in_(_ids(queries))),
        sa.and_(event.entity == "source_verification", event.entity_id.in_(_ids(verifications))),
        sa.and_(event.entity == "signature", event.entity_id.in_(_ids(signatures))),
        sa.and_(event.entity == "data_lock", event.entity_id.in_(_ids(locks))),
    )
