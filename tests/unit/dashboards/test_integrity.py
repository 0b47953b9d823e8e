"""Monitoring visits held against the audit trail by `ecrf audit verify`: a visit changed,
deleted or planted in the database behind the application's back is named."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecrf.dashboards import services
from ecrf.db import utcnow
from ecrf.extensions import db
from tests.cli.test_audit_tampering import intrude, verify


@pytest.fixture
def visited(sites, monitor):
    day = utcnow().date() - timedelta(days=2)
    services.record_visit(sites["BDX"], day.isoformat(), actor=monitor)
    db.session.commit()
    return day


def test_a_recorded_visit_verifies(visited, runner):
    code, output = verify(runner)
    assert code == 0, output


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE monitoring_visit SET visit_date = '2020-01-01' WHERE id = 1",
            "monitoring visit 1 is not the one the trail recorded",
        ),
        (
            "UPDATE monitoring_visit SET site_id = 2 WHERE id = 1",
            "monitoring visit 1 is not the one the trail recorded",
        ),
        (
            "DELETE FROM monitoring_visit WHERE id = 1",
            "monitoring visit 1 is missing from the data but the trail recorded it",
        ),
        (
            "INSERT INTO monitoring_visit (site_id, visit_date, monitor_id, recorded_at) "
            "SELECT site_id, visit_date, monitor_id, recorded_at FROM monitoring_visit",
            "monitoring visit 2 has no record in the trail",
        ),
    ],
    ids=["moved to another day", "moved to another site", "deleted", "planted"],
)
def test_a_visit_changed_behind_the_applications_back_is_named(
    app, visited, runner, statement, expected
):
    db.session.remove()
    intrude(app, statement)
    code, output = verify(runner)
    assert code == 1
    assert expected in output
