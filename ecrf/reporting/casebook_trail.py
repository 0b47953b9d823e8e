"""The subject's part of the audit trail, as a casebook prints it: every event on the subject,
its visits, its form entries and its findings, in chain order, with places in words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Finding, FormEntry, Subject, SubjectStatus
from ecrf.records.recorded import describe_recorded

#: What each recorded action means, for people (unknown actions are printed as recorded).
ACTIONS = {
    "subject_registered": "Subject registered",
    "subject_status_changed": "Status changed",
    "visit_date_set": "Visit date recorded",
    "protocol_deviation": "Protocol deviation",
    "form_created": "Form opened",
    "row_added": "Row added",
    "row_removed": "Row removed",
    "item_entered": "Value entered",
    "item_changed": "Value changed",
    "item_cleared": "Value cleared",
    "item_derived": "Value derived",
    "form_completed": "Form marked complete",
    "form_saved": "Form saved",
    "finding_opened": "Finding opened",
    "finding_resolved": "Finding resolved",
    "report": "Report generated",
    "api_read": "Read through the API",
}
#: Events that only repeat what the events before them said (the save that wrote them).
QUIET = frozenset({"form_saved"})
#: First entries (a value given where there was none, a row opened, a value derived) of one
#: save are printed as one line, the values listed; changes keep a line each.
ENTRIES = frozenset({"item_entered", "item_derived", "row_added"})
ENTERED = "First entries"
#: Events of one save are recorded within this time of each other.
SAME_SAVE_SECONDS = 5

_PATH = re.compile(r"^(\w+)\[(\d+)\](?:\.(\w+))?$")


def status_history(subject: Subject) -> list[dict[str, Any]]:
    """Each status the subject went through: when, by whom, from, to, why."""
    query = (
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity == "subject",
            AuditEvent.entity_id == subject.identifier,
            AuditEvent.action.in_(("subject_registered", "subject_status_changed")),
        )
        .order_by(AuditEvent.seq)
    )
    return [
        {
            "at": event.at,
            "by": event.actor,
            "old": _status_label(event.old),
            "new": _status_label(event.new),
            "reason": event.reason,
        }
        for event in db.session.scalars(query)
    ]


def _status_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return SubjectStatus(value).label
    except ValueError:
        return value


def subject_trail(
    study: LoadedStudy,
    subject: Subject,
    entries: Iterable[FormEntry],
    findings: dict[int, list[Finding]],
) -> list[dict[str, Any]]:
    """The subject's events in chain order, each with its place in words."""
    places = {str(e.id): (e.visit.visit_oid, e.visit.repeat_key, e.form_oid) for e in entries}
    finding_places = {
        str(f.id): places.get(str(f.entry_id)) for found in findings.values() for f in found
    }
    event = AuditEvent
    query = (
        sa.select(event)
        .where(
            sa.or_(
                sa.and_(event.entity == "subject", event.entity_id == subject.identifier),
                sa.and_(event.entity == "visit", event.entity_id.like(f"{subject.identifier}/%")),
                sa.and_(event.entity == "form_entry", event.entity_id.in_(list(places))),
                sa.and_(event.entity == "finding", event.entity_id.in_(list(finding_places))),
            ),
            event.action.not_in(QUIET),
        )
        .order_by(event.seq)
        .execution_options(yield_per=1000)
    )
    trail: list[dict[str, Any]] = []
    for row in db.session.scalars(query):
        if row.entity == "form_entry":
            place = places[row.entity_id]
            if row.action in ENTRIES and _joins(trail, row):
                trail[-1]["parts"].append(_entry_text(study, place, row))
                continue
            where = _form_place(study, place, None if row.action in ENTRIES else row.field)
        elif row.entity == "finding":
            place = finding_places.get(row.entity_id)
            where = _form_place(study, place, row.field) if place else row.field or ""
        elif row.entity == "visit":
            where = _visit_place(study, row.entity_id)
        else:
            where = ""
        condensed = row.entity == "form_entry" and row.action in ENTRIES
        old, new = row.old or "", row.new or ""
        if row.entity == "form_entry" and row.field and not condensed:
            # A change reads as on the form: labels, units, missing-data codes in words.
            form_oid = places[row.entity_id][2]
            old = describe_recorded(study, form_oid, row.field, old) if old else ""
            new = describe_recorded(study, form_oid, row.field, new) if new else ""
        trail.append(
            {
                "seq": row.seq,
                "at": row.at,
                "actor": row.actor,
                "action": ENTERED if condensed else ACTIONS.get(row.action, row.action),
                "where": where,
                "old": old,
                "new": "" if condensed or row.action == "form_created" else new,
                "reason": row.reason or "",
                "entity_id": row.entity_id if condensed else None,
                "parts": [_entry_text(study, places[row.entity_id], row)] if condensed else [],
            }
        )
    for event in trail:
        if event.pop("entity_id") is not None:
            event["new"] = "; ".join(part for part in event["parts"] if part)
        del event["parts"]
    return trail


def _joins(trail: list[dict[str, Any]], row: AuditEvent) -> bool:
    """Whether ``row`` continues the condensed first entries just printed (the same form,
    the same person, within the same save)."""
    if not trail:
        return False
    last = trail[-1]
    return (
        last["entity_id"] == row.entity_id
        and last["actor"] == row.actor
        and (row.at - last["at"]).total_seconds() < SAME_SAVE_SECONDS
    )


def _entry_text(study: LoadedStudy, place: tuple[str, int, str], row: AuditEvent) -> str:
    """One first entry, short (its value is the form's, unless a change follows): "ITEM",
    "GROUP[2].ITEM" in a repeating group, a derived value marked "*"; a row added to a
    repeating group "GROUP[2]"; "" for the opening of a non-repeating group."""
    match = _PATH.match(row.field or "")
    if not match:
        return row.field or ""
    group = study.group(place[2], match.group(1))
    repeating = group is not None and group.repeating
    item_oid = match.group(3)
    if item_oid is None:
        return row.field if repeating else ""
    text = row.field if repeating else item_oid
    return f"{text}*" if row.action == "item_derived" else text


def _visit_place(study: LoadedStudy, entity_id: str) -> str:
    parts = entity_id.split("/")
    if len(parts) != 3 or parts[1] not in study.visits:
        return entity_id
    visit = study.visits[parts[1]]
    return visit.name if parts[2] == "1" else f"{visit.name} #{parts[2]}"


def _form_place(study: LoadedStudy, place: tuple[str, int, str], path: str | None) -> str:
    visit_oid, repeat, form_oid = place
    visit = study.visits.get(visit_oid)
    form = study.forms.get(form_oid)
    if visit is None or form is None:
        return f"{visit_oid} · {form_oid}" + (f" · {path}" if path else "")
    where = f"{visit_oid}{'' if repeat == 1 else f' #{repeat}'} · {form.name}"
    match = _PATH.match(path or "")
    if not match:
        return where
    group_oid, key, item_oid = match.group(1), int(match.group(2)), match.group(3)
    group = study.group(form_oid, group_oid)
    if group is not None and group.repeating:
        where += f" · {group.label}, row {key}"
    if item_oid:
        label = (
            study.item(form_oid, item_oid)[1].label if study.has_item(form_oid, item_oid) else ""
        )
        where += f" · {label} ({item_oid})" if label else f" · {item_oid}"
    return where
