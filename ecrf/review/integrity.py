"""Review marks held against the audit trail, both ways: a mark planted in the database,
moved to another reviewer, site or scope, or deleted, is seen by `ecrf audit verify`."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.auth.models import User
from ecrf.extensions import db
from ecrf.review.models import ReviewMark
from ecrf.review.services import mark_scope


class ReviewMarkReconciler:
    """Rebuilds each mark (reviewer, site, what it covers) from its "audit_reviewed" event."""

    def __init__(self) -> None:
        self.marks: dict[int, tuple] = {}  # id → (reviewer, site id, event text)

    def handlers(self):
        return {"audit_reviewed": self._marked}

    def _marked(self, event: Event) -> None:
        self.marks[int(event.entity_id)] = (event.actor, event.site_id, event.new or "")

    def compare(self, problems: Problems) -> None:
        stored = sa.select(ReviewMark, User.username).join(User, ReviewMark.reviewer_id == User.id)
        for mark, username in db.session.execute(stored.order_by(ReviewMark.id)):
            expected = self.marks.pop(mark.id, None)
            if expected is None:
                problems.add(f"review mark {mark.id} has no event in the trail")
                continue
            actor, site_id, text = expected
            if (actor, site_id) != (username, mark.site_id) or not text.endswith(mark_scope(mark)):
                problems.add(f"review mark {mark.id} is not the mark the trail recorded")
        for mark_id in sorted(self.marks):
            problems.add(f"review mark {mark_id} is missing from the data but the trail made it")
