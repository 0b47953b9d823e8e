"""Every route × every role × own site / other site: who gets in, who gets 403.

Extend ROUTES as routes come; each row says which roles may open the page. Users hold
their role at site BDX (administrators: all sites); OTHER routes point at site TLS.
"""

from __future__ import annotations

import pytest

from ecrf.auth.roles import Role
from ecrf.crf.loader import current_study
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.study import services as site_services
from ecrf.study import subjects

EVERYONE = set(Role)
DATA_ROLES = {Role.SITE_STAFF, Role.INVESTIGATOR, Role.MONITOR, Role.DATA_MANAGER, Role.SPONSOR}
USER_MANAGERS = {Role.ADMIN, Role.DATA_MANAGER}
DATA_ENTRY = {Role.SITE_STAFF, Role.INVESTIGATOR}
DM_FORM = "/visits/SCR/1/forms/DM"

# (method, path, roles allowed when their role is at BDX only)
ROUTES = [
    ("GET", "/", EVERYONE),
    ("GET", "/account", EVERYONE),
    ("GET", "/sites/", DATA_ROLES),
    ("GET", "/sites/BDX", DATA_ROLES),
    ("GET", "/sites/TLS", set()),
    ("GET", "/admin/users", USER_MANAGERS),
    ("GET", "/admin/users/new", USER_MANAGERS),
    ("GET", "/admin/users/staff.tls", USER_MANAGERS),
    ("GET", "/admin/sites", {Role.ADMIN}),
    ("POST", "/admin/sites", {Role.ADMIN}),
    ("GET", "/subjects", DATA_ROLES),
    ("GET", "/subjects/BDX-001", DATA_ROLES),
    ("GET", "/subjects/TLS-001", set()),
    ("GET", "/subjects/BDX-001" + DM_FORM, DATA_ROLES),
    ("GET", "/subjects/TLS-001" + DM_FORM, set()),
    ("GET", "/subjects/BDX-001" + DM_FORM + "/history", DATA_ROLES),
    ("GET", "/subjects/TLS-001" + DM_FORM + "/history", set()),
    ("POST", "/subjects/BDX-001" + DM_FORM, DATA_ENTRY),
    ("POST", "/subjects/TLS-001" + DM_FORM, set()),
    ("POST", "/subjects/BDX-001/status", DATA_ENTRY),
    ("POST", "/subjects/TLS-001/status", set()),
    ("POST", "/subjects/BDX-001/visits/SCR/1/date", DATA_ENTRY),
    ("POST", "/subjects/TLS-001/visits/SCR/1/date", set()),
    ("POST", "/subjects/BDX-001" + DM_FORM + "/rows/DM/1/remove", DATA_ENTRY),
]


@pytest.fixture
def people(app, create_site, create_user):
    create_site("BDX")
    create_site("TLS")
    with app.app_context():
        for code in ("BDX", "TLS"):
            subject = subjects.register_subject(site_services.get_site(code), actor=None)
            save_form(
                current_study(),
                subject,
                "SCR",
                "DM",
                {("DM", 1): {"SEX": "M"}},
                actor=None,
                expected_version=0,
            )
        db.session.commit()
    create_user("staff.tls", Role.SITE_STAFF, "TLS")
    for role in Role:
        create_user(
            f"{role.value.replace('_', '')}.bdx", role, None if role is Role.ADMIN else "BDX"
        )


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize(
    ("method", "path", "allowed"), ROUTES, ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_route_access_by_role_and_site(client, auth, people, role, method, path, allowed):
    assert auth.login(f"{role.value.replace('_', '')}.bdx").status_code == 302
    response = client.open(path, method=method, data={})
    expected_ok = role in allowed
    if expected_ok:
        # Allowed in: the page, or the action answered (done, or refused for its content).
        assert response.status_code in (200, 302, 409, 422), response.status_code
    else:
        assert response.status_code == 403
        assert b"Not allowed" in response.data


@pytest.mark.parametrize(
    ("method", "path", "_"), ROUTES, ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_anonymous_visitors_are_sent_to_sign_in(client, people, method, path, _):
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
