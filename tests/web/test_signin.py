"""Sign-in, sign-out, lockout, idle time-out and safe redirects over HTTP."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.roles import Role
from ecrf.auth.sessions import SEEN_KEY
from ecrf.extensions import db


@pytest.fixture
def alice(create_site, create_user):
    create_site("BDX")
    create_user("alice", Role.INVESTIGATOR, "BDX")


def last_actions(app, n: int) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(n)
        )
        return list(reversed(list(rows)))


def test_sign_in_shows_who_you_are_and_what_you_can_do(client, auth, alice):
    response = auth.login("alice")
    assert response.headers["Location"] == "/subjects"  # data entry starts at the matrix
    home = client.get("/").get_data(as_text=True)
    assert "Welcome, Alice" in home and "alice" in home
    assert "Investigator" in home and "BDX" in home
    assert "Sign case report forms as investigator" in home
    assert "Create accounts" not in home


def test_wrong_password_re_renders_the_form_with_one_generic_message(client, auth, alice):
    response = auth.login("alice", "wrong password!!")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Unknown username or wrong password." in page
    assert 'value="alice"' in page


def test_missing_fields_are_flagged_at_each_field(client, alice):
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "Enter your username." in page and "Enter your password." in page


def test_fifth_failure_locks_and_the_lock_message_is_shown(client, auth, alice, app):
    for _ in range(4):
        auth.login("alice", "wrong password!!")
    page = auth.login("alice", "wrong password!!").get_data(as_text=True)
    assert "blocked for 15 minutes" in page
    page = auth.login("alice").get_data(as_text=True)
    assert "blocked for 15 minutes" in page
    assert client.get("/").status_code == 302
    assert last_actions(app, 3) == ["login_failed", "lockout", "login_refused_locked"]


def test_sign_out_ends_the_session_and_old_cookies_die(client, auth, alice, app):
    auth.login("alice")
    with client.session_transaction() as stolen:
        old_session = dict(stolen)
    assert auth.logout().headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    with client.session_transaction() as replay:
        replay.update(old_session)
    assert client.get("/account").status_code == 302
    assert last_actions(app, 2) == ["login", "logout"]


def test_idle_session_times_out_and_the_time_out_is_recorded(client, auth, alice, app):
    auth.login("alice")
    assert client.get("/account").status_code == 200
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - 31 * 60
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed out after 30 minutes without activity" in page
    assert last_actions(app, 1) == ["session_timeout"]
    assert client.get("/account").status_code == 302


def test_activity_within_the_idle_limit_keeps_the_session(client, auth, alice):
    auth.login("alice")
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - 29 * 60
    assert client.get("/account").status_code == 200


def test_idle_limit_is_configurable(make_app):
    app = make_app(SESSION_IDLE_MINUTES=5)
    client = app.test_client()
    with app.app_context():
        from ecrf.auth import services

        services.create_user("bob", "Bob", "correct horse battery staple", actor=None)
        db.session.commit()
    client.post("/login", data={"username": "bob", "password": "correct horse battery staple"})
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - 6 * 60
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("target", "lands"),
    [
        ("/account", "/account"),
        ("https://evil.example/", "/subjects"),
        ("//evil.example/", "/subjects"),
    ],
)
def test_after_sign_in_only_local_pages_are_followed(client, alice, target, lands):
    response = client.post(
        f"/login?next={target}",
        data={"username": "alice", "password": "correct horse battery staple"},
    )
    assert response.headers["Location"] == lands


def test_sign_in_without_csrf_token_is_refused(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert b"Form expired" in response.data


def test_an_attacking_address_cannot_keep_the_user_out(app, alice):
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(10):
        attacker.post("/login", data={"username": "alice", "password": "wrong password!!"})
    refused = attacker.post(
        "/login", data={"username": "alice", "password": "correct horse battery staple"}
    )
    assert refused.status_code == 422 and b"blocked for 15 minutes" in refused.data
    user = app.test_client()
    user.environ_base["REMOTE_ADDR"] = "10.1.1.10"
    signed_in = user.post(
        "/login", data={"username": "alice", "password": "correct horse battery staple"}
    )
    assert signed_in.status_code == 302


@pytest.mark.parametrize(("proxies", "user_gets_in"), [(1, True), (0, False)])
def test_behind_a_proxy_the_forwarded_address_is_counted_only_when_configured(
    make_app, proxies, user_gets_in
):
    app = make_app(PROXY_FIX_X_FOR=proxies)
    with app.app_context():
        from ecrf.auth import services

        services.create_user(
            "bob", "Bob", "correct horse battery staple", actor=None, must_change_password=False
        )
        db.session.commit()
    client = app.test_client()  # every request comes through the proxy at 127.0.0.1
    for _ in range(5):
        client.post(
            "/login",
            data={"username": "bob", "password": "wrong password!!"},
            headers={"X-Forwarded-For": "203.0.113.66"},
        )
    response = client.post(
        "/login",
        data={"username": "bob", "password": "correct horse battery staple"},
        headers={"X-Forwarded-For": "10.1.1.10"},
    )
    assert (response.status_code == 302) is user_gets_in
