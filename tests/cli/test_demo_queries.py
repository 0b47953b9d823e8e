"""The demo's own queries: beside the automatic ones the edit checks open and close, the
demo monitor raises one that the site answers and the monitor closes, one the site has
answered, and one still open, so that a newcomer meets every state."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.demo_seeding import DEMO_QUERIES, seed_demo_queries
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.queries.models import MessageKind, Query, QueryState


def test_the_demo_monitor_leaves_a_query_in_every_state(seeded):
    with seeded.app.app_context():
        automatic = db.session.scalar(
            sa.select(sa.func.count()).select_from(Query).where(Query.finding_id.is_not(None))
        )
        assert automatic > 0  # the trial's warnings opened their own
        assert seed_demo_queries() == len(DEMO_QUERIES)
        db.session.commit()
        manual = db.session.scalars(
            sa.select(Query).where(Query.finding_id.is_(None)).order_by(Query.id)
        ).all()
        assert [q.state for q in manual] == [
            QueryState.CLOSED,
            QueryState.ANSWERED,
            QueryState.OPEN,
        ]
        closed = manual[0]
        assert [(m.kind, m.author.username) for m in closed.messages] == [
            (MessageKind.OPENED, "monitor"),
            (MessageKind.ANSWERED, "staff.bdx"),
            (MessageKind.CLOSED, "monitor"),
        ]
        assert {q.subject.site.code for q in manual} == {"BDX", "TLS"}
        assert verify_trail().intact
