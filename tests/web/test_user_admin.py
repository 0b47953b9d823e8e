"""Managing accounts in the web UI: create, grant, revoke, reset, deactivate, unlock."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth import services
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.extensions import db

NEW = {
    "username": "nina",
    "full_name": "Nina Roux",
    "email": "nina@example.org",
    "password": "a long enough secret",
    "confirm": "a long enough secret",
    "role": "site_staff",
    "site": "BDX",
}


@pytest.fixture
def admin_client(client, auth, create_site, create_user):
    create_site("BDX")
    create_site("TLS")
    create_user("boss", Role.ADMIN)
    auth.login("boss")
    return client


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_admin_creates_an_account_with_its_first_role(admin_client, app):
    response = admin_client.post("/admin/users/new", data=NEW)
    assert response.headers["Location"] == "/admin/users/nina"
    page = admin_client.get("/admin/users/nina").get_data(as_text=True)
    assert "Nina Roux" in page and "Site staff" in page and "user created" in page
    assert "nina" in admin_client.get("/admin/users").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"password": "short", "confirm": "short"}, "password", "at least 12 characters"),
        (
            {"password": "nina-password-1", "confirm": "nina-password-1"},
            "password",
            "must not contain",
        ),
        ({"confirm": "something else!"}, "confirm", "The two passwords differ."),
        ({"username": "Nina Roux"}, "username", "3 to 40 characters"),
        ({"full_name": ""}, "full_name", "Give the person&#39;s full name."),
        ({"role": "superuser"}, "role", "Not a valid choice"),
        ({"role": "admin", "site": "BDX"}, "site", "applies to all sites"),
    ],
)
def test_bad_entries_are_shown_at_their_field_and_nothing_is_written(
    admin_client, app, change, field, message
):
    before = count_users(app)
    response = admin_client.post("/admin/users/new", data={**NEW, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page.split(f'id="{field}-error"')[1][:300]
    assert count_users(app) == before
    with app.app_context():
        assert (
            db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_id == "nina")) is None
        )


def test_a_taken_username_is_refused_at_the_username_field(admin_client, app):
    admin_client.post("/admin/users/new", data=NEW)
    page = admin_client.post("/admin/users/new", data=NEW).get_data(as_text=True)
    assert "never reused" in page.split('id="username-error"')[1][:400]


def test_granting_revoking_and_deactivating_from_the_user_page(admin_client, app):
    admin_client.post("/admin/users/new", data={**NEW, "role": ""})
    admin_client.post("/admin/users/nina/roles", data={"grant-role": "monitor", "grant-site": ""})
    with app.app_context():
        (assignment,) = services.get_user("nina").roles
        assert (assignment.role, assignment.site_id) == (Role.MONITOR, None)
        assignment_id = assignment.id
    admin_client.post(f"/admin/users/nina/roles/{assignment_id}/revoke")
    page = admin_client.post(
        "/admin/users/nina/deactivate", data={"deactivate-reason": ""}
    ).get_data(as_text=True)
    assert "Give the reason for deactivation." in page
    admin_client.post("/admin/users/nina/deactivate", data={"deactivate-reason": "Left the unit"})
    with app.app_context():
        nina = services.get_user("nina")
        assert not nina.active and nina.roles == []
        actions = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.entity_id == "nina")
            .order_by(AuditEvent.seq)
        ).all()
    assert actions == ["user_created", "role_granted", "role_revoked", "user_deactivated"]
    assert "Deactivated" in admin_client.get("/admin/users").get_data(as_text=True)


def test_admin_resets_a_password_and_unlocks_a_locked_account(admin_client, app):
    admin_client.post("/admin/users/new", data=NEW)
    with app.app_context():
        for _ in range(5):
            services.authenticate("nina", "wrong password!!")
        db.session.commit()
    page = admin_client.get("/admin/users/nina").get_data(as_text=True)
    assert "Locked until" in page
    admin_client.post("/admin/users/nina/unlock")
    bad = admin_client.post("/admin/users/nina/password", data={"reset-password": "short"})
    assert bad.status_code == 422 and "at least 12" in bad.get_data(as_text=True)
    admin_client.post("/admin/users/nina/password", data={"reset-password": "another fine secret"})
    with app.app_context():
        assert services.authenticate("nina", "another fine secret").user is not None


def test_site_data_manager_cannot_grant_roles_at_another_site(
    client, auth, create_site, create_user, app
):
    create_site("BDX")
    create_site("TLS")
    create_user("dm.bdx", Role.DATA_MANAGER, "BDX")
    create_user("someone", Role.SITE_STAFF, "BDX")
    auth.login("dm.bdx")
    page = client.get("/admin/users/someone").get_data(as_text=True)
    assert 'value="TLS"' not in page and "All sites" not in page
    response = client.post(
        "/admin/users/someone/roles", data={"grant-role": "site_staff", "grant-site": "TLS"}
    )
    assert response.status_code == 422
    with app.app_context():
        assert len(services.get_user("someone").roles) == 1


def test_unknown_user_page_is_404(admin_client):
    assert admin_client.get("/admin/users/ghost").status_code == 404


def test_admin_adds_a_site_and_bad_codes_are_refused(admin_client):
    ok = admin_client.post("/admin/sites", data={"code": "nte", "name": "CHU de Nantes"})
    assert ok.status_code == 302
    assert "NTE" in admin_client.get("/admin/sites").get_data(as_text=True)
    dup = admin_client.post("/admin/sites", data={"code": "NTE", "name": "Again"})
    assert dup.status_code == 422 and "already exists" in dup.get_data(as_text=True)
    bad = admin_client.post("/admin/sites", data={"code": "N-1", "name": "Bad"})
    assert bad.status_code == 422 and "capital letters" in bad.get_data(as_text=True)


def test_users_change_their_own_password(client, auth, create_site, create_user, app):
    create_site("BDX")
    create_user("alice", Role.SITE_STAFF, "BDX")
    auth.login("alice")
    wrong = client.post(
        "/account",
        data={
            "current_password": "nope nope nope",
            "password": "brand new secret",
            "confirm": "brand new secret",
        },
    )
    assert wrong.status_code == 422 and "current password is wrong" in wrong.get_data(as_text=True)
    ok = client.post(
        "/account",
        data={
            "current_password": "correct horse battery staple",
            "password": "brand new secret",
            "confirm": "brand new secret",
        },
    )
    assert ok.status_code == 302
    assert client.get("/account").status_code == 200  # still signed in here
    with app.app_context():
        assert services.authenticate("alice", "brand new secret").user is not None


def test_a_password_set_by_a_manager_must_be_changed_at_the_next_sign_in(
    admin_client, client, auth, app
):
    admin_client.post("/admin/users/new", data=NEW)
    auth.logout()
    assert auth.login("nina", "a long enough secret").status_code == 302
    for path in ("/", "/subjects", "/sites/", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert client.post("/subjects", data={"site": "BDX"}).headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert "choose a new password of your own before you continue" in page
    assert "replace it with one only you know" in page
    assert client.get("/static/ecrf.css").status_code == 200
    with app.app_context():
        assert services.get_user("nina").must_change_password
    changed = client.post(
        "/account",
        data={
            "current_password": "a long enough secret",
            "password": "a fresh phrase of my own",
            "confirm": "a fresh phrase of my own",
        },
    )
    assert changed.status_code == 302
    assert client.get("/").status_code == 200
    with app.app_context():
        assert not services.get_user("nina").must_change_password
        actions = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.entity_id == "nina")
            .order_by(AuditEvent.seq)
        ).all()
    assert actions[-2:] == ["login", "password_changed"]


def test_a_reset_password_must_be_changed_and_sign_out_still_works(
    admin_client, client, auth, app, create_user
):
    create_user("alice", Role.SITE_STAFF, "BDX")
    admin_client.post("/admin/users/alice/password", data={"reset-password": "temporary phrase 42"})
    auth.logout()
    auth.login("alice", "temporary phrase 42")
    assert client.get("/subjects").headers["Location"] == "/account"
    assert auth.logout().headers["Location"] == "/login"
    assert client.get("/").headers["Location"].startswith("/login")


def test_a_weak_password_is_refused_with_zxcvbn_feedback_at_the_field(admin_client, app):
    response = admin_client.post(
        "/admin/users/new", data={**NEW, "password": "password1234", "confirm": "password1234"}
    )
    assert response.status_code == 422
    error = response.get_data(as_text=True).split('id="password-error"')[1][:400]
    assert "This password is too easy to guess." in error
    assert "This is a very common password." in error
    assert count_users(app) == 1  # only the administrator
