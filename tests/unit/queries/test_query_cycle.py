"""Queries: raised on an item, a row, a form or a visit by the side that monitors, answered
by the site, closed and reopened by the side that raised them; automatic ones opened and
closed by the edit-check findings; every step audited, and checked against the subject's
site and the actor's role there."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.models import MessageKind, Query, QueryLevel, QueryState
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import LoadedStudy, load_study
from forms.language import Severity
from tests.capture import entry_of, events
from tests.definitions.mini import STUDY

HGB = QueryTarget("SCR", 1, "LB", item_oid="HGB")
LB_VALUES = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}}


@pytest.fixture
def datamanager(sites, create_user) -> User:
    return db.session.get(User, create_user("data.manager", Role.DATA_MANAGER))


@pytest.fixture
def tls_monitor(sites, create_user) -> User:
    return db.session.get(User, create_user("tls.monitor", Role.MONITOR, "TLS"))


@pytest.fixture
def with_labs(subject, save):
    save(subject, "SCR", "LB", LB_VALUES)
    return subject


def actions(query: Query) -> list[tuple]:
    return [(e.action, e.field, e.new) for e in events(query.id, entity="query")]


def test_a_monitor_raises_a_query_on_an_item_and_the_trail_says_where(study, with_labs, monitor):
    query = queries.open_query(
        study, with_labs, HGB, "  Haemoglobin as on the report?  ", actor=monitor
    )
    db.session.commit()
    assert (query.level, query.state, query.item_oid, query.group_oid, query.repeat_key) == (
        QueryLevel.ITEM,
        QueryState.OPEN,
        "HGB",
        "LB",
        1,
    )
    assert [(m.kind, m.text, m.author_id) for m in query.messages] == [
        (MessageKind.OPENED, "Haemoglobin as on the report?", monitor.id)
    ]
    assert actions(query) == [
        ("query_opened", "SCR[1]/LB/LB[1].HGB", "Haemoglobin as on the report?")
    ]


@pytest.mark.parametrize(
    ("target", "level", "field"),
    [
        (QueryTarget("SCR", 1, "LB", "LB", 1), QueryLevel.ROW, "SCR[1]/LB/LB[1]"),
        (QueryTarget("SCR", 1, "LB"), QueryLevel.FORM, "SCR[1]/LB"),
        (QueryTarget("SCR", 1), QueryLevel.VISIT, "SCR[1]"),
    ],
)
def test_a_query_may_be_on_a_row_a_form_or_a_visit(study, with_labs, monitor, target, level, field):
    query = queries.open_query(study, with_labs, target, "Please check.", actor=monitor)
    assert query.level is level
    assert actions(query)[0][1] == field


@pytest.mark.parametrize(
    ("target", "error"),
    [
        (QueryTarget("BASE", 1), queries.NO_VISIT),  # no data at that visit yet
        (QueryTarget("SCR", 1, "DM"), queries.NO_FORM),  # the form has no data
        (QueryTarget("SCR", 1, "LES"), queries.NO_FORM),  # not a form of this visit
        (QueryTarget("SCR", 1, "LB", item_oid="NOPE"), queries.NO_ITEM),
        (QueryTarget("SCR", 1, "LB", "NOPE", 1), queries.NO_ROW),
    ],
)
def test_a_query_on_nothing_is_refused_and_nothing_written(
    study, with_labs, monitor, target, error
):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Query))
    with pytest.raises(NotFound, match=error[:30]):
        queries.open_query(study, with_labs, target, "Why?", actor=monitor)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Query)) == before


@pytest.mark.parametrize(
    ("text", "message"), [("   ", queries.TEXT_NEEDED), ("x" * 2001, "At most 2000 characters.")]
)
def test_a_question_is_needed_at_its_field(study, with_labs, monitor, text, message):
    with pytest.raises(RuleViolation) as caught:
        queries.open_query(study, with_labs, HGB, text, actor=monitor)
    assert (caught.value.field, caught.value.message) == ("text", message)


def test_the_site_answers_and_the_monitor_closes(study, with_labs, monitor, staff):
    query = queries.open_query(study, with_labs, HGB, "As on the report?", actor=monitor)
    queries.answer_query(query, "Yes, 13 g/dL.", actor=staff)
    assert query.state is QueryState.ANSWERED
    queries.close_query(query, actor=monitor)
    db.session.commit()
    assert query.state is QueryState.CLOSED and query.closed_at is not None
    assert [a[0] for a in actions(query)] == ["query_opened", "query_answered", "query_closed"]
    assert [m.kind for m in query.messages] == [
        MessageKind.OPENED,
        MessageKind.ANSWERED,
        MessageKind.CLOSED,
    ]


def test_a_closed_query_takes_no_answer_until_reopened_with_a_reason(
    study, with_labs, monitor, staff
):
    query = queries.open_query(study, with_labs, HGB, "As on the report?", actor=monitor)
    queries.close_query(query, "Seen on the source.", actor=monitor)
    with pytest.raises(RuleViolation, match="closed"):
        queries.answer_query(query, "Late answer", actor=staff)
    with pytest.raises(RuleViolation) as caught:
        queries.reopen_query(query, " ", actor=monitor)
    assert caught.value.field == "text"
    queries.reopen_query(query, "The report says 12.", actor=monitor)
    assert (query.state, query.closed_at) == (QueryState.OPEN, None)
    with pytest.raises(RuleViolation, match="Only a closed query"):
        queries.reopen_query(query, "again", actor=monitor)
    assert [a[0] for a in actions(query)] == ["query_opened", "query_closed", "query_reopened"]


def test_roles_and_sites_are_checked_on_the_query_s_subject(
    study, with_labs, monitor, staff, other_staff, tls_monitor, investigator, datamanager
):
    with pytest.raises(PermissionDenied):  # the site does not raise queries
        queries.open_query(study, with_labs, HGB, "Why?", actor=staff)
    with pytest.raises(PermissionDenied):  # a monitor of another site
        queries.open_query(study, with_labs, HGB, "Why?", actor=tls_monitor)
    query = queries.open_query(study, with_labs, HGB, "Why?", actor=datamanager)
    with pytest.raises(PermissionDenied):  # the monitoring side does not answer
        queries.answer_query(query, "Because.", actor=monitor)
    with pytest.raises(PermissionDenied):  # staff of another site
        queries.answer_query(query, "Because.", actor=other_staff)
    queries.answer_query(query, "Because.", actor=investigator)
    with pytest.raises(PermissionDenied):  # only the side that raised it closes
        queries.close_query(query, actor=investigator)
    with pytest.raises(PermissionDenied):
        queries.close_query(query, actor=tls_monitor)
    queries.close_query(query, actor=monitor)
    assert query.state is QueryState.CLOSED


# --- automatic queries ----------------------------------------------------------------------

QUERIED = replace(STUDY, version="1.0-queries", query_severities=(Severity.WARN,))


@pytest.fixture
def queried(app_ctx) -> LoadedStudy:
    return load_study(QUERIED)


#: A grade 3 haemoglobin with no adverse event: the mini study's warning HGB_GRADE3_AE.
LOW_HGB = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "7.5"}}


def automatic(subject) -> list[Query]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Query).where(Query.subject_id == subject.id, Query.finding_id.is_not(None))
    ).all()


def test_a_finding_opens_a_query_that_the_data_close(queried, subject, staff):
    def save(rows):
        entry = entry_of(subject, "SCR", "LB")
        services.save_form(
            queried,
            subject,
            "SCR",
            "LB",
            rows,
            actor=staff,
            expected_version=entry.version if entry else 0,
        )
        db.session.commit()

    save(LOW_HGB)
    (query,) = automatic(subject)
    assert (query.state, query.level, query.item_oid) == (QueryState.OPEN, QueryLevel.ITEM, "HGB")
    assert query.messages[0].author_id is None  # the system asks
    assert query.messages[0].text == query.finding.message
    opened = events(query.id, entity="query")[0]
    assert (opened.action, opened.actor_id, opened.reason) == (
        "query_opened",
        staff.id,
        "edit check HGB_GRADE3_AE",
    )
    save({("LB", 1): {"HGB": "13"}})
    (query,) = automatic(subject)
    assert query.state is QueryState.CLOSED
    assert [m.kind for m in query.messages] == [MessageKind.OPENED, MessageKind.RESOLVED]
    assert query.messages[-1].text == queries.RESOLVED_NOTE
    assert [e.action for e in events(query.id, entity="query")] == [
        "query_opened",
        "query_resolved",
    ]


def test_without_query_severities_findings_open_no_query(study, subject, save):
    save(subject, "SCR", "LB", LOW_HGB)
    assert automatic(subject) == []
