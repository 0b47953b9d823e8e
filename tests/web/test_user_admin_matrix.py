"""Every user-management route × actor scope × target scope: the answer, and nothing
changed when refused.

Actors hold their role at BDX (administrator and the all-site data manager: all sites).
Targets: a user at BDX, at TLS, at both, an all-site user, another administrator, the
actor itself, and an account with no role yet. A manager acts on an account only if it
could have granted every role the account holds; out of scope, the account answers 404
like a missing one; nobody changes their own roles, password or activation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from ecrf import create_app
from ecrf.audit.models import AuditEvent
from ecrf.auth import services
from ecrf.auth.roles import Role
from ecrf.errors import PermissionDenied
from ecrf.extensions import db
from ecrf.records.sites import get_site
from ecrf.study import services as study_services
from tests.conftest import PASSWORD, app_config, release, restore_app, shared_app
from tests.pages import masked

ACTORS = {
    "admin": (Role.ADMIN, None),
    "dm.all": (Role.DATA_MANAGER, None),
    "dm.bdx": (Role.DATA_MANAGER, "BDX"),
    "staff.bdx": (Role.SITE_STAFF, "BDX"),
    "monitor.bdx": (Role.MONITOR, "BDX"),
}
TARGETS = {
    "own": ("t.bdx", [(Role.SITE_STAFF, "BDX")]),
    "other": ("t.tls", [(Role.SITE_STAFF, "TLS")]),
    "both": ("t.both", [(Role.SITE_STAFF, "BDX"), (Role.SITE_STAFF, "TLS")]),
    "allsite": ("t.all", [(Role.MONITOR, None)]),
    "admin": ("t.admin", [(Role.ADMIN, None)]),
    "self": (None, None),
    "roleless": ("t.none", []),
}
#: Which targets each actor manages; actors absent here manage nobody (403 everywhere).
MANAGES = {
    "admin": {"own", "other", "both", "allsite", "admin", "self", "roleless"},
    "dm.all": {"own", "other", "both", "allsite", "self", "roleless"},
    "dm.bdx": {"own", "self"},
}
NEW_PASSWORD = "tq7-vmz2-plx9 reset"
ATTACKER = "203.0.113.66"


@pytest.fixture(scope="module")
def accounts_template(databases, tmp_path_factory) -> str:
    """Sites BDX and TLS, the actors and the targets, built once and frozen."""
    url = databases.new_database()
    app = create_app(app_config(url, tmp_path_factory.mktemp("accounts")))
    with app.app_context():
        for code in ("BDX", "TLS"):
            study_services.add_site(code, f"Hospital {code}", actor=None)
        for username, (role, site) in ACTORS.items():
            services.create_user(
                username,
                username.title(),
                PASSWORD,
                role=role,
                site=get_site(site) if site else None,
                actor=None,
                must_change_password=False,
            )
        for username, roles in TARGETS.values():
            if username is None:
                continue
            user = services.create_user(
                username, username.title(), "a long enough secret", actor=None
            )
            for role, site in roles:
                site_obj = get_site(site) if site else None
                services.grant_role(user, role, site_obj, actor=None)
        db.session.commit()
    release(app)
    return databases.freeze(url)


@pytest.fixture(scope="module")
def accounts_app(accounts_template, databases, tmp_path_factory) -> Iterator[Flask]:
    """The module's app, on a database that ``accounts`` makes a copy of the template again
    before each test."""
    yield from shared_app(databases, accounts_template, tmp_path_factory.mktemp("user_admin"))


@pytest.fixture
def app(accounts_app):
    return accounts_app


@pytest.fixture
def accounts(app, accounts_template, databases) -> Iterator[None]:
    """The sites, actors and targets, as a new app on a copy of them would have them."""
    restore_app(app, databases, accounts_template)
    yield
    release(app)


def lock(app, username: str) -> None:
    """Lock ``username`` from a source the test client never uses."""
    with app.app_context():
        for _ in range(app.config["LOCKOUT_THRESHOLD"]):
            services.authenticate(username, "not the password at all", ATTACKER)
        db.session.commit()


def state(app, username: str) -> dict:
    with app.app_context():
        user = services.get_user(username)
        return {
            "roles": sorted((a.role.value, a.site.code if a.site else "*") for a in user.roles),
            "hash": user.password_hash,
            "must_change": user.must_change_password,
            "active": user.active,
            "locked": services.locked_until(username) is not None,
            "events": db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.entity == "user", AuditEvent.entity_id == username)
            ),
        }


def first_assignment_id(app, username: str) -> int | None:
    with app.app_context():
        roles = services.get_user(username).roles
        return roles[0].id if roles else None


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("actor", list(ACTORS))
def test_user_management_routes_by_actor_and_target_scope(
    app, client, auth, accounts, actor, target
):
    username = actor if target == "self" else TARGETS[target][0]
    lock(app, username)
    assert auth.login(actor).status_code == 302
    manager = actor in MANAGES
    in_scope = manager and target in MANAGES[actor]
    is_self = target == "self"
    base = f"/admin/users/{username}"

    def refused(response, status: int, before: dict, text: str | None = None) -> None:
        assert response.status_code == status, (response.status_code, response.request.path)
        if text is not None:
            assert text in response.get_data(as_text=True)
        assert state(app, username) == before

    listing = client.get("/admin/users")
    if not manager:
        refused(listing, 403, state(app, username), "Not allowed")
    else:
        assert listing.status_code == 200
        assert (f'href="{base}"' in listing.get_data(as_text=True)) == in_scope

    show = client.get(base)
    if not manager:
        assert show.status_code == 403
    elif not in_scope:
        missing = client.get("/admin/users/no.such.user")
        assert (show.status_code, masked(show.data)) == (404, masked(missing.data))
    else:
        assert show.status_code == 200

    # Each action: refused (403 non-manager, 404 out of scope, 422 own account) with
    # nothing changed, or done and visible in the state.
    def act(path: str, data: dict, *, self_refused: bool, self_text: str | None = None):
        before = state(app, username)
        response = client.post(base + path, data=data)
        if not manager:
            refused(response, 403, before, "Not allowed")
        elif not in_scope:
            refused(response, 404, before, "There is no such page.")
        elif is_self and self_refused:
            refused(response, 422, before, self_text)
        else:
            assert response.status_code == 302, (path, response.status_code)
            after = state(app, username)
            assert after["events"] > before["events"]
            return before, after
        return None

    done = act("/unlock", {}, self_refused=False)
    if done:
        assert done[0]["locked"] and not done[1]["locked"]

    done = act(
        "/password",
        {"reset-password": NEW_PASSWORD},
        self_refused=True,
        self_text="Change your own password on your account page.",
    )
    if done:
        assert done[1]["hash"] != done[0]["hash"] and done[1]["must_change"]

    done = act(
        "/roles",
        {"grant-role": "monitor", "grant-site": "BDX"},
        self_refused=True,
        self_text="You cannot change your own roles",
    )
    if done:
        assert done[1]["roles"] == sorted([*done[0]["roles"], ("monitor", "BDX")])

    assignment = first_assignment_id(app, username)
    if target != "roleless":
        done = act(f"/roles/{assignment}/revoke", {}, self_refused=True)
        if done:
            assert len(done[1]["roles"]) == len(done[0]["roles"]) - 1

    done = act(
        "/deactivate",
        {"deactivate-reason": "Left the unit"},
        self_refused=True,
        self_text="You cannot deactivate your own account.",
    )
    if done:
        assert done[0]["active"] and not done[1]["active"]


CREATE = {
    "username": "nina",
    "full_name": "Nina Roux",
    "email": "",
    "password": "a long enough secret",
    "confirm": "a long enough secret",
}


@pytest.mark.parametrize(
    ("actor", "role", "site", "expected"),
    [
        ("admin", "site_staff", "BDX", 302),
        ("admin", "site_staff", "TLS", 302),
        ("admin", "", "", 302),
        ("admin", "admin", "", 302),
        ("dm.all", "site_staff", "TLS", 302),
        ("dm.all", "", "", 302),
        ("dm.all", "admin", "", 422),
        ("dm.bdx", "site_staff", "BDX", 302),
        ("dm.bdx", "site_staff", "TLS", 422),
        ("dm.bdx", "monitor", "", 422),
        ("dm.bdx", "", "", 422),
        ("staff.bdx", "site_staff", "BDX", 403),
        ("monitor.bdx", "", "", 403),
    ],
)
def test_creating_an_account_by_actor_scope(
    app, client, auth, accounts, actor, role, site, expected
):
    auth.login(actor)
    response = client.post("/admin/users/new", data={**CREATE, "role": role, "site": site})
    assert response.status_code == expected
    with app.app_context():
        nina = services.get_user("nina")
        created = db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.entity_id == "nina")
        )
        if expected == 302:
            assert nina is not None and nina.must_change_password
            assert [(a.role.value, a.site.code if a.site else "") for a in nina.roles] == (
                [(role, site)] if role else []
            )
        else:
            assert nina is None and created == 0


def test_a_site_manager_must_give_the_first_role_and_is_told_so(client, auth, accounts):
    auth.login("dm.bdx")
    page = client.post("/admin/users/new", data={**CREATE, "role": "", "site": "BDX"})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "must hold a role at one of your sites" in text.split('id="role-error"')[1][:300]


@pytest.mark.parametrize(
    ("target", "role", "message"),
    [
        ("t.admin", "investigator", "cannot also enter or sign data"),
        ("t.admin", "site_staff", "cannot also enter or sign data"),
        ("dm.all", "investigator", "cannot also enter or sign data"),
        ("t.bdx", "data_manager", "cannot also be administrator or data manager"),
        ("t.bdx", "admin", "cannot also be administrator or data manager"),
    ],
)
def test_separation_of_duties_is_refused_at_the_role_field(
    app, client, auth, accounts, target, role, message
):
    auth.login("admin")
    before = state(app, target)
    site = "" if role == "admin" else ("BDX" if role != "data_manager" else "")
    response = client.post(
        f"/admin/users/{target}/roles", data={"grant-role": role, "grant-site": site}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).split('id="grant-role-error"')[1][:400]
    assert state(app, target) == before


def test_unlocking_an_unknown_username_is_for_all_site_managers_only(app, accounts):
    lock(app, "ghost")
    with app.app_context():
        dm_bdx = services.get_user("dm.bdx")
        with pytest.raises(PermissionDenied):
            services.unlock("ghost", actor=dm_bdx)
        db.session.rollback()
        assert services.locked_until("ghost") is not None
        services.unlock("ghost", actor=services.get_user("dm.all"))
        db.session.commit()
        assert services.locked_until("ghost") is None
