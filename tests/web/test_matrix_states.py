"""The matrix tells what is due: nothing is overdue for a subject who left the study."""

from __future__ import annotations

from datetime import timedelta

from ecrf.auth.roles import Role
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import SubjectStatus
from ecrf.study import subjects


def test_visits_of_a_screen_failure_are_not_overdue(
    app, client, auth, create_site, create_user, create_subject
):
    create_site("BDX")
    create_user("alice", Role.SITE_STAFF, "BDX")
    d0 = (utcnow().date() - timedelta(days=60)).isoformat()
    create_subject("BDX", {("SCR", "ENR"): {("ENR", 1): {"D0PLAN": d0}}})
    auth.login("alice")
    legend = 1  # the legend shows each state once
    assert client.get("/subjects").get_data(as_text=True).count("cell-overdue") > legend
    with app.app_context():
        subjects.change_status(
            current_study(),
            subjects.get_subject("BDX-001"),
            SubjectStatus.SCREEN_FAILURE,
            actor=None,
            reason="Declined the IAH procedure",
        )
        db.session.commit()
    matrix = client.get("/subjects").get_data(as_text=True)
    assert matrix.count("cell-overdue") == legend and "not done (left the study)" in matrix
    page = client.get("/subjects/BDX-001").get_data(as_text=True)
    assert 'class="status status-bad">overdue' not in page
