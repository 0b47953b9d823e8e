"""The demo's audit review: the demo monitor has marked the earlier half of BDX's changes
to critical data reviewed, so the review page shows reviewed and new changes side by side."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.auth import services as auth_services
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.loader import current_study
from ecrf.review import services
from ecrf.review.demo import seed_demo_review
from ecrf.review.models import ReviewMark


def test_the_demo_monitor_has_reviewed_part_of_the_changes(seeded):
    with seeded.app.app_context():
        line = seed_demo_review()
        db.session.commit()
        assert line.startswith("The demo monitor marked ") and "(site BDX)" in line
        study = current_study()
        monitor = auth_services.get_user("monitor")
        rows = db.session.execute(services.changes(study, monitor, services.ReviewFilters())).all()
        reviewed = {row[-1] is not None for row in rows}
        assert reviewed == {True, False}
        assert {site for *_, site, at in rows if at is not None} == {"BDX"}
        marks = db.session.scalars(sa.select(ReviewMark)).all()
        assert [(m.reviewer_id, m.form_oid) for m in marks] == [(monitor.id, None)]
        assert verify_trail().intact
