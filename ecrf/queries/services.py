"""Raise, answer, close and reopen queries; open and resolve automatic ones from findings.

Every function checks the actor's right at the subject's site (raising and closing:
monitors and data managers; answering: site staff and investigators), flushes, and records
its audit event (R13: query state changes are in the trail); none commits. The command
line operator (``actor=None``) may do all.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.errors import NotFound, RuleViolation
from ecrf.extensions import db
from ecrf.queries.models import MessageKind, Query, QueryLevel, QueryMessage, QueryState
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Finding, FormEntry, ItemGroupRow, Subject, SubjectVisit
from ecrf.records.places import DataPlace

#: Characters a message may hold.
MAX_TEXT = 2000

TEXT_NEEDED = "Write the question."
ANSWER_NEEDED = "Write the answer."
REOPEN_NEEDED = "Say why the query is reopened."
TEXT_TOO_LONG = "At most {limit} characters."
NO_VISIT = "This visit has no data yet: raise the query on the subject's visit once it has."
NO_FORM = "This form has no data at this visit."
NO_ROW = "There is no such row in this form."
NO_ITEM = "There is no such item in this form."
ALREADY_CLOSED = "This query is closed: reopen it first."
NOT_CLOSED = "Only a closed query can be reopened."
RESOLVED_NOTE = "Closed automatically: the data no longer raise this finding."


@dataclass(frozen=True)
class QueryTarget(DataPlace):
    """What a query is about: a visit, or a form of it, or a row of the form, or an item
    (of the row: ``repeat_key`` 1 outside repeating groups)."""

    @property
    def level(self) -> QueryLevel:
        if self.item_oid is not None:
            return QueryLevel.ITEM
        if self.group_oid is not None:
            return QueryLevel.ROW
        if self.form_oid is not None:
            return QueryLevel.FORM
        return QueryLevel.VISIT


def where(query: Query) -> str:
    """The query's target as the audit trail names it (VISIT[1]/FORM/GROUP[2].ITEM)."""
    path = f"{query.visit.visit_oid}[{query.visit.repeat_key}]"
    if query.entry is not None:
        path += f"/{query.entry.form_oid}"
    if query.group_oid is not None:
        path += f"/{query.group_oid}[{query.repeat_key}]"
    if query.item_oid is not None:
        path += f".{query.item_oid}"
    return path


def _text(text: str | None, needed: str) -> str:
    text = (text or "").strip()
    if not text:
        raise RuleViolation(needed, field="text")
    if len(text) > MAX_TEXT:
        raise RuleViolation(TEXT_TOO_LONG.format(limit=MAX_TEXT), field="text")
    return text


def resolve_target(study: LoadedStudy, subject: Subject, target: QueryTarget) -> dict:
    """The query's columns for ``target``, which must exist in the definition and the data.

    :raises NotFound: it does not (no data yet at that visit, form or row; no such item).
    """
    # The definition first: a name it does not know never reaches the database.
    definition = study.visits.get(target.visit_oid)
    if definition is None:
        raise NotFound(NO_VISIT)
    if target.form_oid is not None and target.form_oid not in definition.forms:
        raise NotFound(NO_FORM)
    if target.group_oid is not None and study.group(target.form_oid, target.group_oid) is None:
        raise NotFound(NO_ROW)
    visit = db.session.scalar(
        sa.select(SubjectVisit).where(
            SubjectVisit.subject_id == subject.id,
            SubjectVisit.visit_oid == target.visit_oid,
            SubjectVisit.repeat_key == target.visit_repeat,
        )
    )
    if visit is None:
        raise NotFound(NO_VISIT)
    columns: dict = {"visit_id": visit.id, "level": target.level}
    if target.form_oid is None:
        return columns
    entry = db.session.scalar(
        sa.select(FormEntry).where(
            FormEntry.visit_id == visit.id, FormEntry.form_oid == target.form_oid
        )
    )
    if entry is None:
        raise NotFound(NO_FORM)
    columns["entry_id"] = entry.id
    group_oid = target.group_oid
    if target.item_oid is not None:
        if not study.has_item(target.form_oid, target.item_oid):
            raise NotFound(NO_ITEM)
        group = study.item(target.form_oid, target.item_oid)[0]
        if group_oid not in (None, group.oid):
            raise NotFound(NO_ITEM)
        group_oid = group.oid
        columns["item_oid"] = target.item_oid
    if group_oid is None:
        return columns
    repeat_key = target.repeat_key or 1
    group = study.group(target.form_oid, group_oid)
    row = db.session.scalar(
        sa.select(ItemGroupRow).where(
            ItemGroupRow.entry_id == entry.id,
            ItemGroupRow.group_oid == group_oid,
            ItemGroupRow.repeat_key == repeat_key,
        )
    )
    if group.repeating and (row is None or row.removed):
        raise NotFound(NO_ROW)
    columns.update(group_oid=group_oid, repeat_key=repeat_key)
    return columns


def _add_message(query: Query, kind: MessageKind, text: str, actor: User | None) -> None:
    db.session.add(
        QueryMessage(query=query, kind=kind, text=text, author_id=actor.id if actor else None)
    )


def _record(action: str, query: Query, actor: User | None, text: str | None, **extra) -> None:
    record_event(
        action,
        "query",
        query.id,
        actor=actor,
        site_id=query.subject.site_id,
        field=where(query),
        new=text,
        **extra,
    )


def open_query(
    study: LoadedStudy, subject: Subject, target: QueryTarget, text: str, *, actor: User | None
) -> Query:
    """Raise a query on ``target`` of ``subject``.

    :raises PermissionDenied: the actor may not raise queries at the subject's site.
    :raises NotFound: the visit, form, row or item has no data to ask about.
    :raises RuleViolation: no question, or a question too long (at ``text``).
    """
    if actor is not None:
        require_permission(actor, Perm.RAISE_QUERY, subject.site_id)
    text = _text(text, TEXT_NEEDED)
    query = Query(subject=subject, opened_by_id=actor.id if actor else None)
    for name, value in resolve_target(study, subject, target).items():
        setattr(query, name, value)
    db.session.add(query)
    _add_message(query, MessageKind.OPENED, text, actor)
    db.session.flush()
    _record("query_opened", query, actor, text)
    return query


def answer_query(query: Query, text: str, *, actor: User | None) -> Query:
    """The site answers an open (or already answered) query.

    :raises PermissionDenied: the actor may not answer queries at the subject's site.
    :raises RuleViolation: no answer (at ``text``), or the query is closed.
    """
    if actor is not None:
        require_permission(actor, Perm.ANSWER_QUERY, query.subject.site_id)
    text = _text(text, ANSWER_NEEDED)
    if query.state is QueryState.CLOSED:
        raise RuleViolation(ALREADY_CLOSED)
    query.state = QueryState.ANSWERED
    _add_message(query, MessageKind.ANSWERED, text, actor)
    db.session.flush()
    _record("query_answered", query, actor, text)
    return query


def close_query(query: Query, text: str | None = None, *, actor: User | None) -> Query:
    """The side that raises queries closes one, with an optional note.

    :raises PermissionDenied: the actor may not raise (nor close) queries at the site.
    :raises RuleViolation: the query is closed already.
    """
    if actor is not None:
        require_permission(actor, Perm.RAISE_QUERY, query.subject.site_id)
    note = (text or "").strip()
    if note:
        note = _text(note, TEXT_NEEDED)
    if query.state is QueryState.CLOSED:
        raise RuleViolation(ALREADY_CLOSED)
    query.state = QueryState.CLOSED
    query.closed_at = utcnow()
    _add_message(query, MessageKind.CLOSED, note, actor)
    db.session.flush()
    _record("query_closed", query, actor, note or None)
    return query


def reopen_query(query: Query, text: str, *, actor: User | None) -> Query:
    """The side that raises queries reopens a closed one, saying why.

    :raises PermissionDenied: the actor may not raise queries at the subject's site.
    :raises RuleViolation: no reason (at ``text``), or the query is not closed.
    """
    if actor is not None:
        require_permission(actor, Perm.RAISE_QUERY, query.subject.site_id)
    text = _text(text, REOPEN_NEEDED)
    if query.state is not QueryState.CLOSED:
        raise RuleViolation(NOT_CLOSED)
    query.state = QueryState.OPEN
    query.closed_at = None
    _add_message(query, MessageKind.REOPENED, text, actor)
    db.session.flush()
    _record("query_reopened", query, actor, text)
    return query


def open_from_finding(finding: Finding, *, actor: User | None) -> Query:
    """An automatic query on the finding's item, its question the finding's message; the
    ``actor`` is whoever saved the data that raised it (the system writes the message)."""
    entry = finding.entry
    query = Query(
        subject_id=finding.subject_id,
        visit_id=entry.visit_id,
        entry_id=entry.id,
        group_oid=finding.group_oid,
        repeat_key=finding.repeat_key,
        item_oid=finding.item_oid,
        level=QueryLevel.ITEM,
        finding_id=finding.id,
    )
    db.session.add(query)
    _add_message(query, MessageKind.OPENED, finding.message, None)
    db.session.flush()
    _record(
        "query_opened", query, actor, finding.message, reason=f"edit check {finding.check_name}"
    )
    return query


def resolve_from_finding(finding: Finding, *, actor: User | None) -> Query | None:
    """Close the automatic query of a finding the data no longer raise, with a note; a
    query closed already stays as it is."""
    query = db.session.scalar(sa.select(Query).where(Query.finding_id == finding.id))
    if query is None or query.state is QueryState.CLOSED:
        return query
    query.state = QueryState.CLOSED
    query.closed_at = utcnow()
    _add_message(query, MessageKind.RESOLVED, RESOLVED_NOTE, None)
    db.session.flush()
    _record("query_resolved", query, actor, RESOLVED_NOTE)
    return query
