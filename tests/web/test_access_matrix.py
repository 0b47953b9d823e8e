"""Every route × every role × own site / other site: who gets in, who gets 403 or 404.

Extend ROUTES as routes come; each row says which roles may open the page, and which get
404 because the record lies outside their sites (it answers like a missing one, so nobody
learns what exists elsewhere); every other role gets 403. Users hold their role at site
BDX (administrators: all sites); OTHER routes point at site TLS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from ecrf import create_app
from ecrf.auth import services as auth_services
from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.laboratories import services as laboratories
from ecrf.locks import services as locks
from ecrf.locks.services import LockTarget
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import services as study_services
from ecrf.study import subjects
from tests.conftest import (
    PASSWORD,
    AuthActions,
    app_config,
    release,
    restore_app,
    shared_app,
)
from tests.pages import masked

EVERYONE = set(Role)
DATA_ROLES = {Role.SITE_STAFF, Role.INVESTIGATOR, Role.MONITOR, Role.DATA_MANAGER, Role.SPONSOR}
USER_MANAGERS = {Role.ADMIN, Role.DATA_MANAGER}
DATA_ENTRY = {Role.SITE_STAFF, Role.INVESTIGATOR}
DM_FORM = "/visits/SCR/1/forms/DM"
EXPORTERS = {Role.DATA_MANAGER, Role.SPONSOR}
#: Extracts (exporters) and report batches (readers of reports) run as jobs.
JOB_USERS = EXPORTERS | {Role.INVESTIGATOR, Role.MONITOR}
#: Readers of PDF case reports; the mini definition declares no report plan: the imaging
#: and safety reports answer 404 there.
REPORT_READERS = {Role.INVESTIGATOR, Role.MONITOR, Role.DATA_MANAGER}
#: Who takes part in queries: the site answers, monitors and data managers raise and close.
QUERY_SIDES = {Role.SITE_STAFF, Role.INVESTIGATOR, Role.MONITOR, Role.DATA_MANAGER}
QUERY_ANSWERERS = DATA_ENTRY
QUERY_RAISERS = {Role.MONITOR, Role.DATA_MANAGER}
NEW_QUERY = "/queries/new?visit=SCR&form=DM&item=SEX"
#: Only data managers lock, at their sites; the study only with the right at every site.
LOCKERS = {Role.DATA_MANAGER}
LOCK_DM = "/locks/new?subject={}-001&visit=SCR&form=DM"
#: Only investigators sign, at their own site; nobody else, whatever their role.
SIGNERS = {Role.INVESTIGATOR}
SIGN_PAGES = ("/sign/visit/SCR/1", "/sign/inclusion", "/sign/casebook")
#: Who prepares and records monitoring visits.
MONITORS = {Role.MONITOR}
#: Audit review: who sees the subjects and holds the audit right (not administrators, who
#: see no clinical data); the study-wide trail: data managers (audit and export rights).
AUDIT_REVIEWERS = {Role.INVESTIGATOR, Role.MONITOR, Role.DATA_MANAGER}
AUDIT_READERS = {Role.DATA_MANAGER}
#: Only monitors verify against the source; data managers set a site's share to verify.
VERIFIERS = {Role.MONITOR}
SDV_READERS = {Role.MONITOR, Role.DATA_MANAGER}
PLANNERS = {Role.DATA_MANAGER}
#: The laboratory registry: administrators everywhere, data managers at their sites.
LAB_KEEPERS = {Role.ADMIN, Role.DATA_MANAGER}
LAB_TEST, LAB_UNIT = "HGB", "g/dL"  # the mini definition's one analyte

# (method, path, roles allowed when their role is at BDX only[, roles answered 404])
ROUTES = [
    ("GET", "/", EVERYONE),
    ("GET", "/account", EVERYONE),
    ("GET", "/sites/", DATA_ROLES),
    ("GET", "/sites/BDX", DATA_ROLES),
    ("GET", "/sites/TLS", set()),
    ("GET", "/admin/users", USER_MANAGERS),
    ("GET", "/admin/users/new", USER_MANAGERS),
    ("GET", "/admin/users/staff.tls", {Role.ADMIN}, {Role.DATA_MANAGER}),
    ("GET", "/admin/sites", {Role.ADMIN}),
    ("POST", "/admin/sites", {Role.ADMIN}),
    ("GET", "/subjects", DATA_ROLES),
    ("GET", "/subjects/BDX-001", DATA_ROLES),
    ("GET", "/subjects/TLS-001", set(), DATA_ROLES),
    ("GET", "/subjects/BDX-001" + DM_FORM, DATA_ROLES),
    ("GET", "/subjects/TLS-001" + DM_FORM, set(), DATA_ROLES),
    ("GET", "/subjects/BDX-001" + DM_FORM + "/history", DATA_ROLES),
    ("GET", "/subjects/TLS-001" + DM_FORM + "/history", set(), DATA_ROLES),
    ("POST", "/subjects/BDX-001" + DM_FORM, DATA_ENTRY),
    ("POST", "/subjects/TLS-001" + DM_FORM, set(), DATA_ROLES),
    ("POST", "/subjects/BDX-001/status", DATA_ENTRY),
    ("POST", "/subjects/TLS-001/status", set(), DATA_ENTRY),
    ("POST", "/subjects/BDX-001/visits/SCR/1/date", DATA_ENTRY),
    ("POST", "/subjects/TLS-001/visits/SCR/1/date", set(), DATA_ENTRY),
    ("POST", "/subjects/BDX-001" + DM_FORM + "/rows/DM/1/remove", DATA_ENTRY),
    ("GET", "/jobs", JOB_USERS),
    ("GET", "/jobs/new", JOB_USERS),
    ("POST", "/jobs/new", JOB_USERS),
    ("GET", "/jobs/1/download", set(), JOB_USERS),
    ("GET", "/reports/", EVERYONE),
    ("POST", "/reports/casebook/BDX-001", REPORT_READERS),
    ("POST", "/reports/casebook/TLS-001", set(), REPORT_READERS),
    ("POST", "/reports/casebooks", REPORT_READERS),
    ("GET", "/reports/safety", set(), REPORT_READERS),
    ("GET", "/reports/safety.pdf", set(), REPORT_READERS),
    # The mini definition declares no imaging plan: its readers get 404, everyone else 403
    # (the report itself is walked by role and site in tests/reports/test_imaging.py).
    ("GET", "/reports/imaging", set(), REPORT_READERS),
    ("GET", "/reports/imaging.pdf", set(), REPORT_READERS),
    # The blank annotated CRF holds no clinical data (200: the file, or "being prepared").
    ("GET", "/reports/acrf.pdf", EVERYONE),
    # Query 1 is on BDX-001, query 2 on TLS-001.
    ("GET", "/queries", QUERY_SIDES),
    ("GET", "/queries/1", QUERY_SIDES),
    ("GET", "/queries/2", set(), QUERY_SIDES),
    ("POST", "/queries/1/answer", QUERY_ANSWERERS),
    ("POST", "/queries/2/answer", set(), QUERY_ANSWERERS),
    ("POST", "/queries/1/close", QUERY_RAISERS),
    ("POST", "/queries/2/close", set(), QUERY_RAISERS),
    ("POST", "/queries/1/reopen", QUERY_RAISERS),
    ("POST", "/queries/2/reopen", set(), QUERY_RAISERS),
    ("GET", "/subjects/BDX-001" + NEW_QUERY, QUERY_RAISERS),
    ("GET", "/subjects/TLS-001" + NEW_QUERY, set(), QUERY_RAISERS),
    ("POST", "/subjects/BDX-001" + NEW_QUERY, QUERY_RAISERS),
    ("POST", "/subjects/TLS-001" + NEW_QUERY, set(), QUERY_RAISERS),
    # Lock 1 holds BDX-001's laboratory form at screening, lock 2 TLS-001's.
    ("GET", "/locks", LOCKERS),
    ("GET", "/locks/1", LOCKERS),
    ("GET", "/locks/2", set(), LOCKERS),
    ("POST", "/locks/1/unlock", LOCKERS),
    ("POST", "/locks/2/unlock", set(), LOCKERS),
    ("GET", LOCK_DM.format("BDX"), LOCKERS),
    ("GET", LOCK_DM.format("TLS"), set(), LOCKERS),
    ("POST", LOCK_DM.format("BDX"), LOCKERS),
    ("POST", LOCK_DM.format("TLS"), set(), LOCKERS),
    ("GET", "/locks/new?site=BDX", LOCKERS),
    ("POST", "/locks/new?site=TLS", set(), LOCKERS),
    # The study freeze: a data manager of BDX only may not.
    ("GET", "/locks/new", set()),
    ("POST", "/locks/new", set()),
    *[
        (method, f"/subjects/{subject}" + page, SIGNERS if subject == "BDX-001" else set())
        + (() if subject == "BDX-001" else (SIGNERS,))
        for page in SIGN_PAGES
        for subject in ("BDX-001", "TLS-001")
        for method in ("GET", "POST")
    ],
    # Users of one site are sent from the study dashboard to their site's.
    ("GET", "/dashboard", DATA_ROLES),
    ("GET", "/dashboard?site=BDX", DATA_ROLES),
    ("GET", "/dashboard?site=TLS", set(), DATA_ROLES),
    ("GET", "/sites/BDX/dashboard", DATA_ROLES),
    ("GET", "/sites/TLS/dashboard", set(), DATA_ROLES),
    ("GET", "/sites/BDX/visit-prep", MONITORS),
    ("GET", "/sites/TLS/visit-prep", set(), MONITORS),
    ("POST", "/sites/BDX/monitoring-visits", MONITORS),
    ("POST", "/sites/TLS/monitoring-visits", set(), MONITORS),
    ("GET", "/audit/review", AUDIT_REVIEWERS),
    # Another site as a filter: a message (422), its changes never listed.
    ("GET", "/audit/review?site=TLS", AUDIT_REVIEWERS),
    ("POST", "/audit/review/mark", AUDIT_REVIEWERS),
    ("GET", "/audit", AUDIT_READERS),
    ("GET", "/audit?subject=TLS-001", AUDIT_READERS),
    ("POST", "/subjects/BDX-001" + DM_FORM + "/verify", VERIFIERS),
    ("POST", "/subjects/TLS-001" + DM_FORM + "/verify", set(), VERIFIERS),
    ("POST", "/subjects/BDX-001/visits/SCR/1/verify", VERIFIERS),
    ("POST", "/subjects/TLS-001/visits/SCR/1/verify", set(), VERIFIERS),
    ("GET", "/sdv", SDV_READERS),
    ("GET", "/sdv?site=BDX", SDV_READERS),
    ("GET", "/sdv?site=TLS", set(), SDV_READERS),
    ("POST", "/sdv/sites/BDX/plan", PLANNERS),
    ("POST", "/sdv/sites/TLS/plan", set(), PLANNERS),
    # Laboratory 1 (with range 1) is BDX's, laboratory 2 (with range 2) TLS's.
    ("GET", "/admin/laboratories", LAB_KEEPERS),
    ("POST", "/admin/laboratories", LAB_KEEPERS),
    ("GET", "/admin/laboratories/1", LAB_KEEPERS),
    ("GET", "/admin/laboratories/2", {Role.ADMIN}, {Role.DATA_MANAGER}),
    ("POST", "/admin/laboratories/1", LAB_KEEPERS),
    ("POST", "/admin/laboratories/2", {Role.ADMIN}, {Role.DATA_MANAGER}),
    ("POST", "/admin/laboratories/1/name", LAB_KEEPERS),
    ("POST", "/admin/laboratories/2/name", {Role.ADMIN}, {Role.DATA_MANAGER}),
    ("GET", "/admin/laboratories/1/ranges/1", LAB_KEEPERS),
    ("GET", "/admin/laboratories/2/ranges/2", {Role.ADMIN}, {Role.DATA_MANAGER}),
    ("POST", "/admin/laboratories/1/ranges/1", LAB_KEEPERS),
    ("POST", "/admin/laboratories/2/ranges/2", {Role.ADMIN}, {Role.DATA_MANAGER}),
    # A range of another laboratory through this one's address: missing, for all.
    ("GET", "/admin/laboratories/1/ranges/2", set(), LAB_KEEPERS),
]


@dataclass(frozen=True)
class World:
    #: The frozen database every test of the matrix starts from.
    template: str
    #: Each user's session cookie, from a real sign-in into the world.
    cookies: dict[str, str]


@pytest.fixture(scope="module")
def world(databases, tmp_path_factory) -> World:
    """What every test of the matrix starts from, built once and frozen: sites BDX and TLS,
    a subject at each with its demographics, a query on its sex and a lock on its laboratory
    form, TLS's site staff, and one user per role at BDX (administrators at all sites), each
    signed in once through the sign-in form (the world keeps their session tokens, their
    cookies sign the tests in)."""
    url = databases.new_database()
    app = create_app(app_config(url, tmp_path_factory.mktemp("world")))
    with app.app_context():
        study = current_study()
        for code in ("BDX", "TLS"):
            study_services.add_site(code, f"Hospital {code}", actor=None)
        for code in ("BDX", "TLS"):
            subject = subjects.register_subject(get_site(code), actor=None)
            save_form(
                study,
                subject,
                "SCR",
                "DM",
                {("DM", 1): {"SEX": "M"}},
                actor=None,
                expected_version=0,
            )
            sex = QueryTarget("SCR", 1, "DM", item_oid="SEX")
            queries.open_query(study, subject, sex, "Sex as on the ID?", actor=None)
            labs = LockTarget(subject=subject, visit_oid="SCR", form_oid="LB")
            locks.lock(study, labs, actor=None)
            laboratory = laboratories.add_laboratory(get_site(code), f"Lab {code}", actor=None)
            typed = laboratories.RangeInput(
                testcd=LAB_TEST, unit=LAB_UNIT, high="40", valid_from="2020-01-01"
            )
            laboratories.add_range(study, laboratory, typed, actor=None)
        users = [("staff.tls", Role.SITE_STAFF, "TLS")] + [
            (username_of(role), role, None if role is Role.ADMIN else "BDX") for role in Role
        ]
        for username, role, site in users:
            auth_services.create_user(
                username,
                username.title(),
                PASSWORD,
                role=role,
                site=get_site(site) if site else None,
                actor=None,
                must_change_password=False,
            )
        db.session.commit()
        db.session.remove()
    cookies = {}
    for username, _, _ in users:
        client = app.test_client()
        assert AuthActions(client).login(username).status_code == 302, username
        cookies[username] = client.get_cookie("session").value
    release(app)
    return World(databases.freeze(url), cookies)


def username_of(role: Role) -> str:
    """The world's user holding ``role`` at BDX (administrators: at all sites)."""
    return f"{role.value.replace('_', '')}.bdx"


@pytest.fixture(scope="module")
def world_app(world, databases, tmp_path_factory) -> Iterator[Flask]:
    """One app for the module's tests on the world, on a database that ``people`` makes a
    copy of the world again before each test."""
    yield from shared_app(databases, world.template, tmp_path_factory.mktemp("matrix"))


@pytest.fixture
def app(request):
    """The tests that take ``people`` share the module's app on the ``world``."""
    if "people" in request.fixturenames:
        return request.getfixturevalue("world_app")
    return request.getfixturevalue("make_app")()


@pytest.fixture
def people(app, world, databases) -> Iterator[None]:
    """The ``world``, as it was frozen: the app's database, its audit checkpoints and its
    job results as a new app on a copy of it would have them. The jobs a test starts end
    after it, before the next test's copy."""
    restore_app(app, databases, world.template)
    yield
    release(app)


@pytest.fixture
def sign_in(client, world):
    """Sign ``client`` in as a user of the ``world`` with the cookie of their sign-in.

    The cookie's last activity is the world's sign-in: the module runs in far less than the
    idle time-out (past it, the tests would fail, being sent to sign in, never pass)."""

    def sign(username: str) -> None:
        client.set_cookie("session", world.cookies[username])

    return sign


def _rows():
    for method, path, allowed, *hidden in ROUTES:
        yield method, path, allowed, hidden[0] if hidden else set()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize(
    ("method", "path", "allowed", "hidden"),
    list(_rows()),
    ids=lambda v: str(v) if isinstance(v, str) else "",
)
def test_route_access_by_role_and_site(
    client, sign_in, people, role, method, path, allowed, hidden
):
    sign_in(username_of(role))
    response = client.open(path, method=method, data={})
    if role in allowed:
        # Allowed in: the page, or the action answered (done, or refused for its content);
        # never sent to sign in (the cookie signed the user in).
        assert response.status_code in (200, 302, 409, 422), response.status_code
        assert "/login" not in response.headers.get("Location", "")
    elif role in hidden:
        assert response.status_code == 404
        assert b"There is no such page." in response.data
    else:
        assert response.status_code == 403
        assert b"Not allowed" in response.data


def test_another_sites_subject_answers_exactly_like_a_missing_one(client, auth, people):
    auth.login("sitestaff.bdx")
    for suffix in ("", DM_FORM, DM_FORM + "/history"):
        other = client.get("/subjects/TLS-001" + suffix)
        missing = client.get("/subjects/TLS-999" + suffix)
        assert (other.status_code, masked(other.data)) == (
            missing.status_code,
            masked(missing.data),
        )
        assert other.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "_", "__"),
    list(_rows()),
    ids=lambda v: str(v) if isinstance(v, str) else "",
)
def test_anonymous_visitors_are_sent_to_sign_in(client, people, method, path, _, __):
    response = client.open(path, method=method, data={})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_all_sites_monitor_sees_every_site(client, auth, create_site, create_user):
    create_site("BDX")
    create_site("TLS")
    create_user("mon", Role.MONITOR)
    auth.login("mon")
    assert client.get("/sites/BDX").status_code == 200
    assert client.get("/sites/TLS").status_code == 200
    listing = client.get("/sites/").data
    assert b"BDX" in listing and b"TLS" in listing


def test_site_list_shows_only_own_sites(client, auth, people):
    auth.login("sitestaff.bdx")
    listing = client.get("/sites/").data
    assert b"/sites/BDX" in listing and b"/sites/TLS" not in listing
