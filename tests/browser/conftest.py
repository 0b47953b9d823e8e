"""Browser tests put their data in the live server's database; people sign in by a session
cookie that the sign-in form's POST made (tests/browser/test_sign_in_pages.py, the idle
warning's and the patient journey's tests use the form itself)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from ecrf.auth.models import User
from ecrf.extensions import db
from tests.browser_fixtures import LiveServer
from tests.conftest import PASSWORD, KeptState, discard_state, keep_state, put_back, release

T = TypeVar("T")

#: The real trial's definition, for tests that walk a patient through IAH-PRRT itself.
TRIAL_DEFINITION = "forms.iahprrt:STUDY"


@pytest.fixture
def make_app(make_app):
    """As the shared ``make_app``, with the static files cached by the browser for an hour.

    Without it each page load asks again for its 5 scripts and styles (answered 304): on a
    loaded machine a third of the live server's time went to them. The pages themselves
    stay ``no-store`` (ecrf/security.py), so every page the tests see is fresh.
    """

    def build(**overrides):
        return make_app(**{"SEND_FILE_MAX_AGE_DEFAULT": 3600, **overrides})

    return build


@pytest.fixture
def trial_live_server(make_app):
    """As ``live_server``, running the real IAH-PRRT definition instead of the mini study.

    A test module of the real trial makes it its ``live_server`` (so that ``app``,
    ``sign_in`` and the factories use it)::

        @pytest.fixture
        def live_server(trial_live_server):
            return trial_live_server
    """
    app = make_app(WTF_CSRF_ENABLED=True, TESTING=False, STUDY_DEFINITION=TRIAL_DEFINITION)
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def seed_once(databases):
    """Set up a module's test data once: ``seed_once(app, key, seed)`` runs ``seed()`` (which
    writes to ``app``'s database and returns plain data) in the first test that asks for
    ``key``, keeps a copy of the database and audit checkpoints as they are then, and in the
    module's next tests puts that copy in place of ``app``'s fresh database instead of seeding
    again, returning the same data. Each test still starts from the same data, its own copy.

    For data that takes the write path a second or so (a screened patient); ``app`` must
    be new and not used yet (no page opened), as the live server's is during set-up.
    """
    kept: dict[str, tuple[KeptState, object]] = {}

    def seeded(app: Flask, key: str, seed: Callable[[], T]) -> T:
        if key in kept:
            state, value = kept[key]
            release(app)
            put_back(app, databases, state)
            return value
        value = seed()
        kept[key] = (keep_state(app, databases), value)
        return value

    yield seeded
    for state, _ in kept.values():
        discard_state(databases, state)


@pytest.fixture
def app(live_server):
    """The live server's app, so that ``create_site`` and ``create_user`` fill its database."""
    return live_server.app


@pytest.fixture
def rename_user(app):
    """Give an account a real full name (the factory derives one from the username)."""

    def rename(user_id: int, full_name: str) -> None:
        with app.app_context():
            db.session.get(User, user_id).full_name = full_name
            db.session.commit()

    return rename


def sign_in_page(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign ``page`` in through the real sign-in form and wait for the landing page.

    People who enter data land on the subject matrix; the others on the home page.
    """
    page.goto(f"{base_url}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base_url)}/(subjects)?$"))


def session_cookie(app: Flask, username: str, password: str, user_agent: str) -> dict:
    """The session cookie of a sign-in through the sign-in form, posted by the app's test client
    from the browser's address with the browser's user agent (the session is bound to both).

    The app does what it does for the form (audit event, throttles, last sign-in); only the
    browser's two page loads (the form, then the landing page) are left out.
    """
    client = app.test_client()
    headers = {"User-Agent": user_agent}
    form = client.get("/login", headers=headers)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text)
    data = {"username": username, "password": password}
    if token:  # absent when CSRF is off
        data["csrf_token"] = token.group(1)
    signed_in = client.post("/login", data=data, headers=headers)
    assert signed_in.status_code == 302, f"{username} could not sign in"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return {"name": cookie.key, "value": cookie.value, "httpOnly": True, "sameSite": "Lax"}


#: The user agent of each browser's pages, read once (a page's first script costs a round trip
#: of tens of milliseconds; every context of a run is made with the same settings).
_USER_AGENTS: dict[int, str] = {}


def user_agent(page: Page) -> str:
    key = id(page.context.browser)
    if key not in _USER_AGENTS:
        _USER_AGENTS[key] = page.evaluate("navigator.userAgent")
    return _USER_AGENTS[key]


def sign_in_by_cookie(page: Page, server: LiveServer, username: str, password: str = PASSWORD):
    """Sign ``page``'s browser context in as ``username``; the page stays where it is."""
    cookie = session_cookie(server.app, username, password, user_agent(page))
    page.context.add_cookies([{**cookie, "url": server.url}])


@pytest.fixture
def sign_in(page: Page, live_server):
    """Sign the test's ``page`` in as the given user (by cookie: the page opens nothing).

    Tests that read the page people land on after signing in open it themselves
    (``/subjects`` for those who enter data, ``/`` for the others).
    """

    def sign_in_as(username: str, password: str = PASSWORD) -> None:
        sign_in_by_cookie(page, live_server, username, password)

    return sign_in_as


@pytest.fixture
def signed_in_page(new_context, live_server):
    """A page in a browser context of its own (its own cookies), signed in as another user.

    For two people working at once; the contexts are closed at the end of the test. The page
    opens nothing.
    """

    def open_as(username: str, password: str = PASSWORD) -> Page:
        other = new_context().new_page()
        sign_in_by_cookie(other, live_server, username, password)
        return other

    return open_as
