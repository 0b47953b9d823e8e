"""The subject's queries in its casebook: every query, whatever its state, with its thread,
printed at the form (item, row or whole form) or the visit it is about."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ecrf.extensions import db
from ecrf.queries.models import Query, QueryLevel, QueryMessage, QueryState
from ecrf.records.loader import LoadedStudy

WHOLE_FORM = "The whole form"
WHOLE_VISIT = "The whole visit"
ROW = "{group}, row {key}"
ITEM_IN_ROW = "{item} ({group}, row {key})"
SYSTEM = "the system"
AUTHOR = "{name} ({username})"
#: What each step of a thread did, as the casebook prints it.
STEP = {
    "opened": "Opened",
    "answered": "Answered",
    "closed": "Closed",
    "reopened": "Reopened",
    "resolved": "Closed by the data",
}
OPENED_BY = {True: "Automatic (edit check)", False: "Raised by hand"}


@dataclass
class CasebookQueries:
    #: (visit OID, visit repeat, form OID) → the queries on that form and its items.
    by_form: dict[tuple[str, int, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: (visit OID, visit repeat) → the queries on the visit itself.
    by_visit: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    #: State label → count, for the subject summary.
    counts: dict[str, int] = field(default_factory=dict)


def casebook_queries(study: LoadedStudy, subject_id: int) -> CasebookQueries:
    """Every query of the subject, oldest first, in a fixed number of statements."""
    queries = db.session.scalars(
        sa.select(Query)
        .where(Query.subject_id == subject_id)
        .options(
            joinedload(Query.visit),
            joinedload(Query.entry),
            selectinload(Query.messages).joinedload(QueryMessage.author),
        )
        .order_by(Query.opened_at, Query.id)
    ).all()
    found = CasebookQueries()
    states: Counter[QueryState] = Counter()
    for query in queries:
        states[query.state] += 1
        visit = (query.visit.visit_oid, query.visit.repeat_key)
        printed = _query(study, query)
        if query.level is QueryLevel.VISIT or query.entry is None:
            found.by_visit.setdefault(visit, []).append(printed)
        else:
            found.by_form.setdefault((*visit, query.entry.form_oid), []).append(printed)
    found.counts = {state.label: states[state] for state in QueryState}
    return found


def _query(study: LoadedStudy, query: Query) -> dict[str, Any]:
    return {
        "number": query.id,
        "about": _about(study, query),
        "state": query.state.label,
        "closed": query.state is QueryState.CLOSED,
        "origin": OPENED_BY[query.automatic],
        "thread": [
            {
                "step": STEP[message.kind.value],
                "by": (
                    AUTHOR.format(name=message.author.full_name, username=message.author.username)
                    if message.author
                    else SYSTEM
                ),
                "at": message.at,
                "text": message.text,
            }
            for message in query.messages
        ],
    }


def _about(study: LoadedStudy, query: Query) -> str:
    if query.level is QueryLevel.VISIT or query.entry is None:
        return WHOLE_VISIT
    form_oid = query.entry.form_oid
    group = study.group(form_oid, query.group_oid) if query.group_oid else None
    item = (
        study.item(form_oid, query.item_oid)[1]
        if query.item_oid and study.has_item(form_oid, query.item_oid)
        else None
    )
    repeating = group is not None and group.repeating
    key = query.repeat_key or 1
    if item is not None:
        if repeating:
            return ITEM_IN_ROW.format(item=item.label, group=group.label, key=key)
        return item.label
    if repeating:
        return ROW.format(group=group.label, key=key)
    return WHOLE_FORM
