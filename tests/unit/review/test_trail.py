"""The study-wide audit trail: data managers read their sites' events (all-sites ones the
events of no site too), filtered by subject, user, dates and form; others read nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.locks import services as locks
from ecrf.locks.services import LockTarget
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.review import trail
from ecrf.review.paging import paginate
from ecrf.review.trail import TrailFilters
from ecrf.sdv import services as sdv
from ecrf.sdv.services import SdvTarget
from ecrf.signatures import services as signatures
from ecrf.signatures.content import ScopeKey
from ecrf.signatures.models import Scope
from ecrf.study import subjects
from tests.conftest import PASSWORD

DM = ("DM", 1)


NONE = TrailFilters()


def seen(user, filters=NONE) -> list[tuple]:
    """(action, entity, site code, subject) of the events ``user`` reads, newest first."""
    events = db.session.scalars(trail.events(user, filters)).all()
    return [(e.action, e.entity, site, ident) for e, site, ident, *_ in trail.with_context(events)]


@pytest.fixture
def world(sites, subject, save, staff, other_staff, monitor, study):
    save(subject, "SCR", "DM", {DM: {"SEX": "M"}})
    save(subject, "SCR", "LB", {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}})
    hgb = QueryTarget("SCR", 1, "LB", item_oid="HGB")
    queries.open_query(study, subject, hgb, "HGB?", actor=monitor)
    tls = subjects.register_subject(sites["TLS"], actor=other_staff)
    save(tls, "SCR", "DM", {DM: {"SEX": "F", "PREG": "N"}}, actor=other_staff)
    db.session.commit()
    return subject, tls


@pytest.fixture
def bdx_dm(sites, create_user) -> User:
    return db.session.get(User, create_user("bdx.dm", Role.DATA_MANAGER, "BDX"))


@pytest.fixture
def all_dm(sites, create_user) -> User:
    return db.session.get(User, create_user("all.dm", Role.DATA_MANAGER))


def test_a_site_data_manager_reads_its_sites_events_only(world, bdx_dm):
    events = seen(bdx_dm)
    assert events and {site for _, _, site, _ in events} == {"BDX"}
    assert ("item_entered", "form_entry", "BDX", "BDX-001") in events
    assert ("query_opened", "query", "BDX", None) in events
    assert ("subject_registered", "subject", "BDX", None) in events


def test_an_all_sites_data_manager_reads_every_event(world, all_dm):
    sites = {site for _, _, site, _ in seen(all_dm)}
    assert sites == {"BDX", "TLS", None}  # None: sign-ins, accounts, the definition


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SPONSOR, Role.MONITOR, Role.INVESTIGATOR])
def test_other_roles_read_nothing(world, create_user, role):
    user = db.session.get(User, create_user("someone", role, None if role is Role.ADMIN else "BDX"))
    assert trail.trail_sites(user) == set()
    assert seen(user) == []


def test_the_subject_filter_keeps_its_events(world, bdx_dm, study):
    parsed = trail.parse_filters(study, bdx_dm, {"subject": " bdx-001 "})
    assert parsed.errors == {}
    events = seen(bdx_dm, parsed.filters)
    actions = {action for action, *_ in events}
    assert {"subject_registered", "form_created", "item_entered", "query_opened"} <= actions
    assert "site_created" not in actions and "user_created" not in actions


def test_the_subject_filter_keeps_its_verifications_signatures_and_locks(
    world, bdx_dm, all_dm, study, subject, save, monitor, create_user
):
    """The monitoring cycle of one subject, every step of it under the subject's filter."""
    doc = db.session.get(User, create_user("doc", Role.INVESTIGATOR, "BDX"))
    save(subject, "SCR", "DM", {DM: {"BRTHYM": "1960-03"}}, complete=True)
    save(subject, "SCR", "LB", {}, complete=True)
    sdv.verify(study, subject, SdvTarget("SCR", form_oid="LB"), actor=monitor)
    signatures.sign(
        study,
        subject,
        ScopeKey(Scope.VISIT, "SCR", 1),
        actor=doc,
        password=PASSWORD,
        username="doc",
        confirm_open_queries=True,
    )
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "12"}}, reason="Lab report re-read")
    locks.lock(study, LockTarget(subject=subject, visit_oid="SCR", form_oid="LB"), "", actor=bdx_dm)
    db.session.commit()
    mine = seen(bdx_dm, trail.parse_filters(study, bdx_dm, {"subject": "BDX-001"}).filters)
    monitoring = {(action, entity) for action, entity, *_ in mine}
    assert {
        ("source_verified", "source_verification"),
        ("verification_withdrawn", "source_verification"),
        ("signature_signed", "signature"),
        ("signature_invalidated", "signature"),
        ("data_locked", "data_lock"),
    } <= monitoring
    others = seen(all_dm, trail.parse_filters(study, all_dm, {"subject": "TLS-001"}).filters)
    assert others
    assert not {"source_verification", "signature", "data_lock"} & {e for _, e, *_ in others}


def test_the_form_filter_keeps_its_entries_findings_and_queries(world, bdx_dm, study):
    parsed = trail.parse_filters(study, bdx_dm, {"form": "LB"})
    events = seen(bdx_dm, parsed.filters)
    assert {entity for _, entity, _, _ in events} == {"form_entry", "query"}
    assert {ident for _, entity, _, ident in events if entity == "form_entry"} == {"BDX-001"}


def test_the_user_and_date_filters(world, bdx_dm, study):
    today = utcnow().date()
    by_monitor = seen(bdx_dm, TrailFilters(actor="bdx.monitor"))
    assert [action for action, *_ in by_monitor] == ["query_opened"]
    assert seen(bdx_dm, TrailFilters(date_from=today, date_to=today)) == seen(bdx_dm)
    assert seen(bdx_dm, TrailFilters(date_from=today + timedelta(days=1))) == []
    assert seen(bdx_dm, TrailFilters(date_to=today - timedelta(days=1))) == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"subject": "TLS-001"}, "subject"),  # another site's: as if missing
        ({"subject": "BDX-999"}, "subject"),
        ({"subject": "x" * 5000}, "subject"),
        ({"user": "u" * 81}, "user"),
        ({"from": "2024-02-30"}, "from"),
        ({"from": "١٢٣"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2024-05-02", "to": "2024-05-01"}, "to"),
        ({"form": "NOPE"}, "form"),
    ],
)
def test_bad_filters_get_a_message_at_their_field(world, bdx_dm, study, args, field):
    parsed = trail.parse_filters(study, bdx_dm, args)
    assert list(parsed.errors) == [field]


def test_good_filters_are_kept(world, bdx_dm, study, subject):
    parsed = trail.parse_filters(
        study,
        bdx_dm,
        {
            "subject": "BDX-001",
            "user": "bdx.nurse",
            "from": "2024-05-01",
            "to": "2024-05-02",
            "form": "DM",
        },
    )
    assert parsed.errors == {}
    assert parsed.filters == TrailFilters(
        subject.id, "BDX-001", "bdx.nurse", date(2024, 5, 1), date(2024, 5, 2), "DM"
    )


def test_pages(world, all_dm):
    total = len(seen(all_dm))
    first = paginate(trail.events(all_dm, TrailFilters()), 1, 5)
    last = paginate(trail.events(all_dm, TrailFilters()), first.pages, 5)
    assert (first.total, first.pages, len(first.items)) == (total, -(-total // 5), 5)
    assert first.has_next and not first.has_prev and last.has_prev and not last.has_next
    assert first.items[0][0].seq > first.items[-1][0].seq
    assert paginate(trail.events(all_dm, TrailFilters()), first.pages + 1, 5).items == []
