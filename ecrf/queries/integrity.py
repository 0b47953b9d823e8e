"""Queries held against the audit trail, both ways: a query planted, deleted, moved to
another item, or whose state or thread was changed in the database, is seen by
`ecrf audit verify`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.extensions import db
from ecrf.queries.models import Query, QueryState
from ecrf.queries.services import where

#: The state each audited step leaves a query in.
STATE_AFTER = {
    "query_opened": QueryState.OPEN,
    "query_answered": QueryState.ANSWERED,
    "query_closed": QueryState.CLOSED,
    "query_reopened": QueryState.OPEN,
    "query_resolved": QueryState.CLOSED,
}


class QueryReconciler:
    """Rebuilds each query (where, state, thread) from the trail."""

    def __init__(self) -> None:
        self.queries: dict[int, dict] = {}  # id → {"where", "state", "texts"}

    def handlers(self):
        return {action: self._step for action in STATE_AFTER}

    def _step(self, event: Event) -> None:
        query = self.queries.setdefault(
            int(event.entity_id), {"where": event.field, "state": None, "texts": []}
        )
        query["state"] = STATE_AFTER[event.action]
        query["texts"].append(event.new or "")

    def compare(self, problems: Problems) -> None:
        stored = db.session.scalars(
            sa.select(Query)
            .order_by(Query.id)
            .options(
                selectinload(Query.visit), selectinload(Query.entry), selectinload(Query.messages)
            )
        )
        for query in stored:
            expected = self.queries.pop(query.id, None)
            if expected is None:
                problems.add(f"query {query.id} has no opening in the trail")
                continue
            if expected["where"] != where(query):
                problems.add(
                    f"query {query.id} is on {where(query)} but the trail opened it on "
                    f"{expected['where']}"
                )
            if expected["state"] is not query.state:
                problems.add(
                    f"query {query.id} is {query.state.value} but the trail left it "
                    f"{expected['state'].value}"
                )
            if expected["texts"] != [m.text for m in query.messages]:
                problems.add(f"query {query.id}: its messages are not those of the trail")
        for query_id in sorted(self.queries):
            problems.add(f"query {query_id} is missing from the data but the trail opened it")
