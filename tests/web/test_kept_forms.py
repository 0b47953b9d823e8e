"""Nothing typed is lost: a form posted after the session ended comes back after sign-in.

CSRF is on here, as in production: the three ways a session ends (idle time-out, signed
out elsewhere, cookie gone) each reach the CSRF check differently.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.roles import Role
from ecrf.auth.sessions import SEEN_KEY
from ecrf.crf.services import save_form
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import FormEntry
from ecrf.resume.models import PendingSubmission
from ecrf.resume.services import stash_submission
from ecrf.resume.web import COOKIE
from ecrf.study import subjects
from tests.conftest import PASSWORD

FORM = "/subjects/BDX-001/visits/SCR/1/forms/DM"
TYPED = {
    "DM-1-BRTHYM": "1961-04",
    "DM-1-SEX": "F",
    "DM-1-PREG": "N",
    "DM-1-WEIGHT": "72.5",
    "DM-1-HEIGHT": "168",
    "DM-1-SYMPT": ["FLUSH", "PAIN"],
    "DM-1-NOTE": "typed before the session ended",
}
RESTORED = "the values you typed are shown again, not saved yet: check them and save"


@pytest.fixture
def app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def ward(app, create_site, create_user, create_subject):
    """Site BDX with subject BDX-001 and two nurses; a nurse at TLS."""
    create_site("BDX")
    create_site("TLS")
    create_subject("BDX")
    create_user("anna", Role.SITE_STAFF, "BDX")
    create_user("bruno", Role.SITE_STAFF, "BDX")
    create_user("tom", Role.SITE_STAFF, "TLS")


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)


def sign_in(client, username: str, next_path: str | None = None):
    login = "/login" + (f"?next={next_path}" if next_path else "")
    token = csrf_of(client.get(login).get_data(as_text=True))
    return client.post(
        login, data={"username": username, "password": PASSWORD, "csrf_token": token}
    )


def post_form(client, token: str | None, **headers):
    data = {**TYPED, "version": "0", "action": "complete"}
    if token:
        data["csrf_token"] = token
    return client.post(FORM, data=data, headers=headers)


def entry_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(FormEntry))


def kept_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(PendingSubmission))


def assert_shown_again(page: str) -> None:
    assert RESTORED in page
    assert 'value="72.5"' in page and 'value="168"' in page and 'value="1961-04"' in page
    assert "typed before the session ended" in page
    assert re.search(r'<input checked[^>]*value="FLUSH"', page)
    assert re.search(r'<input checked[^>]*value="PAIN"', page)
    assert not re.search(r'<input checked[^>]*value="DIAR"', page)
    assert re.search(r'<option selected value="F">', page)


def assert_saved_by(app, username: str) -> None:
    with app.app_context():
        entry = db.session.scalar(sa.select(FormEntry))
        assert entry is not None and entry.status == "complete"
        actors = set(
            db.session.scalars(
                sa.select(AuditEvent.actor).where(
                    AuditEvent.entity == "form_entry", AuditEvent.entity_id == str(entry.id)
                )
            )
        )
        assert actors == {username}


def sign_in_and_get_form_back(client, username: str) -> str:
    response = sign_in(client, username, FORM)
    assert response.status_code == 302 and response.headers["Location"] == FORM
    page = client.get(FORM)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def save_shown_form(client, page: str, app, username: str) -> None:
    response = post_form(client, csrf_of(page))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert_saved_by(app, username)


def test_form_posted_after_the_idle_time_out_is_shown_again_after_sign_in(client, app, ward):
    sign_in(client, "anna")
    token = csrf_of(client.get(FORM).get_data(as_text=True))
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - 31 * 60

    response = post_form(client, token)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={FORM}"
    assert entry_count(app) == 0 and kept_count(app) == 1
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None and cookie.http_only and "72.5" not in cookie.value
    login_page = client.get("/login").get_data(as_text=True)
    assert "signed out after 30 minutes without activity" in login_page
    assert "the values you typed are kept" in login_page

    page = sign_in_and_get_form_back(client, "anna")
    assert_shown_again(page)
    assert kept_count(app) == 0 and client.get_cookie(COOKIE) is None
    assert RESTORED not in client.get(FORM).get_data(as_text=True)  # given back once
    save_shown_form(client, page, app, "anna")


def test_form_posted_after_being_signed_out_elsewhere_is_shown_again(app, ward):
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, "anna")
    sign_in(elsewhere, "anna")
    token = csrf_of(here.get(FORM).get_data(as_text=True))
    page = elsewhere.get("/").get_data(as_text=True)
    elsewhere.post("/logout", data={"csrf_token": csrf_of(page)})  # ends every session

    response = post_form(here, token)

    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert entry_count(app) == 0 and kept_count(app) == 1
    page = sign_in_and_get_form_back(here, "anna")
    assert_shown_again(page)
    save_shown_form(here, page, app, "anna")


def test_form_posted_when_the_session_cookie_is_gone_is_shown_again(client, app, ward):
    sign_in(client, "anna")
    token = csrf_of(client.get(FORM).get_data(as_text=True))
    client.delete_cookie("session")  # browser restarted, cookies cleared: the CSRF check fails

    response = post_form(client, token, Origin="http://localhost")

    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert entry_count(app) == 0 and kept_count(app) == 1
    page = sign_in_and_get_form_back(client, "bruno")  # unknown sender: whoever has access
    assert_shown_again(page)
    save_shown_form(client, page, app, "bruno")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/form"}],
    ids=["no origin", "other origin", "other referer"],
)
def test_a_cross_site_post_without_session_is_refused_and_nothing_is_kept(
    client, app, ward, headers
):
    response = post_form(client, "forged", **headers)
    assert response.status_code == 400 and b"Form expired" in response.data
    assert kept_count(app) == 0 and client.get_cookie(COOKIE) is None


def test_a_signed_in_user_with_a_bad_token_is_refused_and_nothing_is_kept(client, app, ward):
    sign_in(client, "anna")
    response = post_form(client, "forged", Origin="http://localhost")
    assert response.status_code == 400 and b"Form expired" in response.data
    assert kept_count(app) == 0


def test_a_kept_form_goes_back_only_to_the_person_whose_session_ended(client, app, ward):
    sign_in(client, "anna")
    token = csrf_of(client.get(FORM).get_data(as_text=True))
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - 31 * 60
    post_form(client, token)

    page = sign_in_and_get_form_back(client, "bruno")
    assert RESTORED not in page and "72.5" not in page
    assert kept_count(app) == 1
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert_shown_again(sign_in_and_get_form_back(client, "anna"))


def test_a_kept_form_is_not_shown_to_someone_without_access_to_the_subject(client, app, ward):
    client.delete_cookie("session")
    post_form(client, "stale", Origin="http://localhost")
    sign_in(client, "tom", FORM)
    # Another site's subject answers like a missing one.
    assert client.get(FORM).status_code == 404
    assert kept_count(app) == 1  # still waiting for someone who may open the form


def test_a_form_shown_again_after_someone_else_saved_meanwhile_gets_the_merge_screen(
    client, app, ward
):
    sign_in(client, "anna")
    token = csrf_of(client.get(FORM).get_data(as_text=True))
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - 31 * 60
    post_form(client, token)
    with app.app_context():
        save_form(
            current_study(),
            subjects.get_subject("BDX-001"),
            "SCR",
            "DM",
            {("DM", 1): {"WEIGHT": "80"}},
            actor=None,
            expected_version=0,
        )
        db.session.commit()

    page = sign_in_and_get_form_back(client, "anna")
    assert_shown_again(page)  # still version 0, as typed
    response = post_form(client, csrf_of(page))
    assert response.status_code == 409
    assert "Changed by someone else meanwhile" in response.get_data(as_text=True)


def test_a_post_with_nothing_typed_is_not_kept(client, app, ward):
    sign_in(client, "anna")
    token = csrf_of(client.get(FORM).get_data(as_text=True))
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - 31 * 60
    response = client.post(FORM, data={"version": "0", "csrf_token": token, "DM-1-NOTE": " "})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert kept_count(app) == 0 and client.get_cookie(COOKIE) is None


def test_kept_forms_expire_after_a_day(client, app, ward):
    with app.app_context():
        user_id = db.session.scalar(sa.text("SELECT id FROM user_account WHERE username='anna'"))
        old = stash_submission(
            [("DM-1-WEIGHT", "99")],
            user_id=user_id,
            path=FORM,
            now=utcnow() - timedelta(hours=25),
        )
        db.session.commit()
    client.set_cookie(COOKIE, old)
    page = sign_in_and_get_form_back(client, "anna")
    assert RESTORED not in page and 'value="99"' not in page
    # The next kept form clears out the expired ones.
    with app.app_context():
        stash_submission([("X", "1")], user_id=None, path=FORM, now=utcnow() - timedelta(days=2))
        db.session.commit()
    assert kept_count(app) == 2
    with app.app_context():
        stash_submission([("X", "2")], user_id=None, path=FORM)
        db.session.commit()
    assert kept_count(app) == 1


def test_keep_alive_answers_204_to_a_signed_in_user_and_401_otherwise(client, app, ward):
    assert client.post("/session/keep-alive", headers={"X-CSRFToken": "x"}).status_code == 400
    sign_in(client, "anna")
    token = csrf_of(client.get(FORM).get_data(as_text=True))
    with client.session_transaction() as session:
        session[SEEN_KEY] = time.time() - 25 * 60
    response = client.post("/session/keep-alive", headers={"X-CSRFToken": token})
    assert response.status_code == 204
    with client.session_transaction() as session:
        assert time.time() - session[SEEN_KEY] < 5
    client.delete_cookie("session")
    page = client.get("/login").get_data(as_text=True)
    anonymous = client.post("/session/keep-alive", headers={"X-CSRFToken": csrf_of(page)})
    assert anonymous.status_code == 401


def test_pages_of_signed_in_users_carry_the_idle_settings_for_the_warning(make_app):
    app = make_app(SESSION_IDLE_MINUTES=20, SESSION_IDLE_WARNING_SECONDS=90)
    client = app.test_client()
    with app.app_context():
        from ecrf.auth import services

        services.create_user("carl", "Carl", PASSWORD, actor=None, must_change_password=False)
        db.session.commit()
    client.post("/login", data={"username": "carl", "password": PASSWORD})
    page = client.get("/").get_data(as_text=True)
    assert 'data-idle-seconds="1200"' in page and 'data-idle-warning-seconds="90"' in page
    assert "Stay signed in" in page and "1:30" in page
    assert "data-idle-seconds" not in client.get("/healthz").get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (FORM.replace("DM", "D" * 600), {"DM-1-WEIGHT": "72"}),
        (FORM + "%00", {"DM-1-WEIGHT": "72"}),
        (FORM, {"DM-1-NOTE": "x" * 100_001}),
        (FORM, {"DM-1-NOTE": "nul \x00 inside"}),
    ],
    ids=["long path", "nul in path", "huge form", "nul in a value"],
)
def test_junk_posted_without_a_session_is_refused_plainly_and_not_kept(make_app, path, data):
    for app in (make_app(), make_app(WTF_CSRF_ENABLED=True)):
        response = app.test_client().post(path, data=data, headers={"Origin": "http://localhost"})
        assert response.status_code in (302, 400, 404), response.status_code
        assert kept_count(app) == 0
