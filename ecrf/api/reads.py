"""What the API answers, as plain JSON-ready dicts, for a reader and their site scope.

Free of the request: each function takes the reader and the ids, checks the reader's
scope, reads, and records one "api_read" event naming what was read, in the caller's
transaction. A subject outside the reader's sites is refused exactly like a missing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission, sites_with
from ecrf.auth.roles import Perm
from ecrf.errors import NotFound, RuleViolation
from ecrf.exports.privacy import is_free_text, withholds_free_text
from ecrf.exports.stream import iter_values
from ecrf.extensions import db
from ecrf.queries.models import Query, QueryMessage
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    SITE_CODE_PATTERN,
    Finding,
    FindingStatus,
    FormEntry,
    Site,
    Subject,
    SubjectStatus,
    SubjectVisit,
)

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
NO_SUBJECT = "There is no such subject."
NO_VISIT = "This subject has no such visit."
BAD_STATUS = "Unknown subject status {value!r}; use one of: {choices}."
BAD_FINDING_STATUS = "Unknown finding status {value!r}; use one of: {choices}."
BAD_SITE = "site must be a site code: 2 to 8 letters or digits."
BAD_PAGE = "page must be a whole number from 1."
BAD_PER_PAGE = f"per_page must be a whole number from 1 to {MAX_PER_PAGE}."


class BadQuery(RuleViolation):
    """A query parameter the API cannot use (answered 400, naming it)."""

    status = 400
    title = "Bad request"


@dataclass(frozen=True)
class Page:
    items: list[dict]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _scope(reader: User) -> set[int] | None:
    require_permission(reader, Perm.VIEW_SUBJECTS)
    return sites_with(reader, Perm.VIEW_SUBJECTS)


def _in_scope(reader: User, identifier: str) -> Subject:
    site_ids = _scope(reader)
    subject = db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier.upper()))
    if subject is None or (site_ids is not None and subject.site_id not in site_ids):
        raise NotFound(NO_SUBJECT)
    return subject


def parse_paging(page: str | None, per_page: str | None) -> tuple[int, int]:
    """Page number and size from query text; BadQuery names the bad one."""
    try:
        number = int(page) if page not in (None, "") else 1
    except ValueError:
        number = 0
    if number < 1 or number > 1_000_000:
        raise BadQuery(BAD_PAGE, field="page")
    try:
        size = int(per_page) if per_page not in (None, "") else DEFAULT_PER_PAGE
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PER_PAGE:
        raise BadQuery(BAD_PER_PAGE, field="per_page")
    return number, size


def parse_site(value: str | None) -> str | None:
    """A site code to filter by (any case), or None for every site in scope."""
    if value in (None, ""):
        return None
    if not re.fullmatch(SITE_CODE_PATTERN, value.upper()):
        raise BadQuery(BAD_SITE, field="site")
    return value.upper()


def parse_status(value: str | None) -> SubjectStatus | None:
    if value in (None, ""):
        return None
    try:
        return SubjectStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in SubjectStatus)
        raise BadQuery(BAD_STATUS.format(value=value, choices=choices), field="status") from None


def _subject_summary(subject: Subject, site_code: str) -> dict:
    return {
        "identifier": subject.identifier,
        "site": site_code,
        "status": subject.status.value,
        "created_at": _iso(subject.created_at),
    }


def list_subjects(
    reader: User,
    *,
    site_code: str | None = None,
    status: SubjectStatus | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page:
    """One page of the subjects the reader may see, by site and number.

    A site outside the reader's scope simply matches nothing.
    """
    site_ids = _scope(reader)
    query = sa.select(Subject, Site.code).join(Site, Subject.site_id == Site.id)
    if site_ids is not None:
        query = query.where(Subject.site_id.in_(site_ids))
    if site_code:
        query = query.where(Site.code == site_code)
    if status is not None:
        query = query.where(Subject.status == status)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(Site.code, Subject.number).limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = [_subject_summary(subject, code) for subject, code in rows]
    filters = f"site={site_code or '*'} status={status.value if status else '*'}"
    record_event(
        "api_read",
        "subject_list",
        f"page {page} of {per_page}",
        actor=reader,
        field=filters,
        new=" ".join(item["identifier"] for item in items) or None,
    )
    return Page(items, page, per_page, total)


def get_subject(study: LoadedStudy, reader: User, identifier: str) -> dict:
    """A subject with its visits and the forms opened in each, named as in ``study``."""
    subject = _in_scope(reader, identifier)
    withhold = withholds_free_text(reader)
    entries = db.session.execute(
        sa.select(FormEntry.visit_id, FormEntry.form_oid, FormEntry.status, FormEntry.updated_at)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(SubjectVisit.subject_id == subject.id)
        .order_by(FormEntry.id)
    ).all()
    forms_by_visit: dict[int, list[dict]] = {}
    for visit_id, form_oid, status, updated_at in entries:
        forms_by_visit.setdefault(visit_id, []).append(
            {
                "form_oid": form_oid,
                "name": _form_name(study, form_oid),
                "status": status.value,
                "updated_at": _iso(updated_at),
            }
        )
    result = _subject_summary(subject, subject.site.code)
    # Reasons and deviations are typed by the sites: free text, withheld like free items.
    result["status_reason"] = None if withhold else subject.status_reason
    result["visits"] = [
        {
            "visit_oid": visit.visit_oid,
            "name": study.visits[visit.visit_oid].name if visit.visit_oid in study.visits else None,
            "repeat_key": visit.repeat_key,
            "visit_date": _iso(visit.visit_date),
            "out_of_window": visit.out_of_window,
            "deviation_reason": None if withhold else visit.deviation_reason,
            "forms": forms_by_visit.get(visit.id, []),
        }
        for visit in subject.visits
    ]
    record_event("api_read", "subject", subject.identifier, actor=reader, site_id=subject.site_id)
    return result


def _form_name(study: LoadedStudy, form_oid: str) -> str | None:
    form = study.forms.get(form_oid)
    return form.name if form is not None else None


def _value(study: LoadedStudy, record, withhold: bool) -> dict:
    known = study.has_item(record.form_oid, record.item_oid)
    item = study.item(record.form_oid, record.item_oid)[1] if known else None
    # An item the loaded definition does not know cannot be shown not to be free text.
    if withhold and (item is None or is_free_text(item)):
        return {
            "item_oid": record.item_oid,
            "value": None,
            "decode": None,
            "unit": None,
            "missing_code": None,
            "derived": record.derived,
            "withheld": True,
        }
    codelist = study.codelist_for(item) if item is not None else None
    decode = codelist.label(record.value) if codelist and record.value is not None else None
    return {
        "item_oid": record.item_oid,
        "value": record.value,
        "decode": decode,
        "unit": record.unit,
        "missing_code": record.missing_code,
        "derived": record.derived,
        "withheld": False,
    }


def get_visit(
    study: LoadedStudy, reader: User, identifier: str, visit_oid: str, repeat_key: int
) -> dict:
    """A visit's forms with their item group rows and values, read by ``study``."""
    subject = _in_scope(reader, identifier)
    visit = db.session.scalar(
        sa.select(SubjectVisit).where(
            SubjectVisit.subject_id == subject.id,
            SubjectVisit.visit_oid == visit_oid,
            SubjectVisit.repeat_key == repeat_key,
        )
    )
    if visit is None:
        raise NotFound(NO_VISIT)
    withhold = withholds_free_text(reader)
    forms: dict[str, dict] = {}
    for entry in db.session.scalars(
        sa.select(FormEntry).where(FormEntry.visit_id == visit.id).order_by(FormEntry.form_oid)
    ):
        forms[entry.form_oid] = {
            "form_oid": entry.form_oid,
            "name": _form_name(study, entry.form_oid),
            "status": entry.status.value,
            "version": entry.version,
            "definition_version": entry.definition_version.version,
            "updated_at": _iso(entry.updated_at),
            "rows": [],
        }
    rows: dict[tuple[str, str, int], dict] = {}
    for record in iter_values([subject.site_id], subject=subject.identifier):
        if record.visit_oid != visit.visit_oid or record.visit_repeat != visit.repeat_key:
            continue
        key = (record.form_oid, record.group_oid, record.repeat_key)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "group_oid": record.group_oid,
                "repeat_key": record.repeat_key,
                "items": [],
            }
            forms[record.form_oid]["rows"].append(row)
        row["items"].append(_value(study, record, withhold))
    label = f"{subject.identifier}/{visit.visit_oid}/{visit.repeat_key}"
    record_event("api_read", "visit", label, actor=reader, site_id=subject.site_id)
    return {
        "subject": subject.identifier,
        "visit_oid": visit.visit_oid,
        "name": study.visits[visit.visit_oid].name if visit.visit_oid in study.visits else None,
        "repeat_key": visit.repeat_key,
        "visit_date": _iso(visit.visit_date),
        "forms": list(forms.values()),
    }


def parse_finding_status(value: str | None) -> FindingStatus | None:
    if value in (None, ""):
        return None
    try:
        return FindingStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in FindingStatus)
        raise BadQuery(
            BAD_FINDING_STATUS.format(value=value, choices=choices), field="status"
        ) from None


def list_findings(
    reader: User, identifier: str, *, status: FindingStatus | None = None
) -> list[dict]:
    """The edit-check findings of a subject (bounded by its data), oldest first."""
    subject = _in_scope(reader, identifier)
    query = (
        sa.select(Finding, SubjectVisit.visit_oid, SubjectVisit.repeat_key, FormEntry.form_oid)
        .join(FormEntry, Finding.entry_id == FormEntry.id)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(Finding.subject_id == subject.id)
        .order_by(Finding.id)
    )
    if status is not None:
        query = query.where(Finding.status == status)
    findings = [
        {
            "id": finding.id,
            "visit_oid": visit_oid,
            "visit_repeat_key": visit_repeat,
            "form_oid": form_oid,
            "group_oid": finding.group_oid,
            "repeat_key": finding.repeat_key,
            "item_oid": finding.item_oid,
            "check": finding.check_name,
            "severity": finding.severity,
            "message": finding.message,
            "status": finding.status.value,
            "opened_at": _iso(finding.opened_at),
            "resolved_at": _iso(finding.resolved_at),
        }
        for finding, visit_oid, visit_repeat, form_oid in db.session.execute(query)
    ]
    record_event(
        "api_read",
        "findings",
        subject.identifier,
        actor=reader,
        site_id=subject.site_id,
        field=status.value if status else None,
    )
    return findings


def list_queries(reader: User, identifier: str) -> list[dict]:
    """The queries of a subject, oldest first, each with its thread; the messages' text is
    withheld (null) from readers who see no free text."""
    subject = _in_scope(reader, identifier)
    withhold = withholds_free_text(reader)
    rows = db.session.scalars(
        sa.select(Query)
        .where(Query.subject_id == subject.id)
        .order_by(Query.opened_at, Query.id)
        .options(
            selectinload(Query.visit),
            selectinload(Query.entry),
            selectinload(Query.finding),
            selectinload(Query.messages).selectinload(QueryMessage.author),
        )
    )
    queries = [
        {
            "id": query.id,
            "visit_oid": query.visit.visit_oid,
            "visit_repeat_key": query.visit.repeat_key,
            "form_oid": query.entry.form_oid if query.entry else None,
            "group_oid": query.group_oid,
            "repeat_key": query.repeat_key,
            "item_oid": query.item_oid,
            "level": query.level.value,
            "state": query.state.value,
            "check": query.finding.check_name if query.finding else None,
            "opened_at": _iso(query.opened_at),
            "closed_at": _iso(query.closed_at),
            "messages": [
                {
                    "kind": message.kind.value,
                    "author": message.author.username if message.author else None,
                    "at": _iso(message.at),
                    "text": None if withhold else message.text,
                }
                for message in query.messages
            ],
        }
        for query in rows
    ]
    record_event("api_read", "queries", subject.identifier, actor=reader, site_id=subject.site_id)
    return queries


def describe_reader(reader: User) -> dict:
    """Who the token acts as: roles and the sites whose subjects it sees (no clinical data)."""
    site_ids = sites_with(reader, Perm.VIEW_SUBJECTS)
    query = sa.select(Site.code).order_by(Site.code)
    if site_ids is not None:
        query = query.where(Site.id.in_(site_ids))
    return {
        "username": reader.username,
        "full_name": reader.full_name,
        "roles": [
            {"role": a.role.value, "site": a.site.code if a.site else None} for a in reader.roles
        ],
        "subject_sites": list(db.session.scalars(query)),
        "free_text_withheld": withholds_free_text(reader),
    }
