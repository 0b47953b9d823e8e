"""Recording a monitoring visit (monitors of the site only, audited, bad dates refused) and
the visit preparation: what changed since, the forms to verify, the queries not closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.dashboards import prep, services
from ecrf.dashboards.models import MonitoringVisit
from ecrf.db import utcnow
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.sdv.services import SdvTarget, verify
from tests.capture import count


def test_a_monitor_records_a_visit_and_the_trail_says_who_and_when(sites, monitor):
    day = utcnow().date() - timedelta(days=3)
    visit = services.record_visit(sites["BDX"], day.isoformat(), actor=monitor)
    db.session.commit()
    assert (visit.site_id, visit.visit_date, visit.monitor_id) == (
        sites["BDX"].id,
        day,
        monitor.id,
    )
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "monitoring_visit_recorded")
    )
    assert (event.actor_id, event.site_id, event.field, event.new) == (
        monitor.id,
        sites["BDX"].id,
        "visit_date",
        day.isoformat(),
    )
    assert services.last_visit(sites["BDX"]).id == visit.id


@pytest.mark.parametrize("who", ["staff", "datamanager"])
def test_only_a_monitor_records_a_visit(sites, who, request):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.record_visit(sites["BDX"], utcnow().date().isoformat(), actor=actor)
    assert count(MonitoringVisit) == 0


def test_a_monitor_of_another_site_may_not_record_a_visit_here(sites, monitor):
    with pytest.raises(PermissionDenied):
        services.record_visit(sites["TLS"], utcnow().date().isoformat(), actor=monitor)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", services.DATE_NEEDED),
        ("  ", services.DATE_NEEDED),
        (None, services.DATE_NEEDED),
        ("2024-02-30", "Enter a real date"),
        ("yesterday", "Enter a real date"),
        ((utcnow().date() + timedelta(days=1)).isoformat(), services.IN_FUTURE),
    ],
)
def test_a_bad_date_is_refused_at_the_field_and_nothing_is_written(sites, monitor, text, message):
    with pytest.raises(RuleViolation) as refused:
        services.record_visit(sites["BDX"], text, actor=monitor)
    assert refused.value.field == "visit_date"
    assert refused.value.message.startswith(message)
    db.session.rollback()
    assert count(MonitoringVisit) == 0


def test_the_preparation_lists_what_changed_since_the_last_visit(
    study, sites, staff, save, monitor, subject
):
    # Before the visit: a complete form.
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-05-01"}}, complete=True)
    first = prep.prepare(study, sites["BDX"])
    assert first.last is None and first.since is None
    assert [(f.form_oid, f.critical) for f in first.to_verify] == [("ENR", True)]

    services.record_visit(sites["BDX"], utcnow().date().isoformat(), actor=monitor)
    db.session.commit()
    # The same day, after the visit: a change to the enrolment form, a new complete form, a
    # draft and a query.
    save(
        subject,
        "SCR",
        "ENR",
        {("ENR", 1): {"ENRDAT": "2024-05-02"}},
        complete=True,
        reason="typing error",
    )
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "13"}}, complete=True)
    save(subject, "SCR", "DM", {("DM", 1): {"SEX": "M"}})
    queries.open_query(study, subject, QueryTarget("SCR", 1, "LB"), "Date?", actor=monitor)
    db.session.commit()

    ready = prep.prepare(study, sites["BDX"])
    assert ready.last.monitor_id == monitor.id
    # Counted from the start of the visit's day: everything today shows.
    assert ready.since.date() == utcnow().date()
    # Every form with values to verify (the draft too), the critical form first; what
    # changed since the visit says so.
    assert [(f.form_oid, f.pending, f.changes > 0) for f in ready.to_verify] == [
        ("ENR", 1, True),
        ("DM", 1, True),
        ("LB", 1, True),
    ]
    verify(study, subject, SdvTarget("SCR", form_oid="ENR"), actor=monitor)
    db.session.commit()
    verified = prep.prepare(study, sites["BDX"])
    assert [f.form_oid for f in verified.to_verify] == ["DM", "LB"]
    assert dict(verified.changes)["Values verified"] == 1
    assert [q.subject_id for q in ready.queries] == [subject.id]
    changes = dict(ready.changes)
    assert changes["Queries opened"] == 1
    assert changes["Forms completed"] >= 2


def test_a_visit_recorded_later_hides_what_came_before(study, sites, staff, save, monitor, subject):
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-05-01"}}, complete=True)
    db.session.add(
        MonitoringVisit(
            site_id=sites["BDX"].id,
            visit_date=utcnow().date() + timedelta(days=1),
            monitor_id=monitor.id,
        )
    )
    db.session.commit()
    ready = prep.prepare(study, sites["BDX"])
    assert ready.changes == []
    # Still to verify, but not changed since that visit.
    assert [(f.form_oid, f.changes, f.last_change) for f in ready.to_verify] == [("ENR", 0, None)]
