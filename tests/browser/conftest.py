"""Browser tests put their data in the live server's database, and sign in through the form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.models import User
from ecrf.extensions import db
from tests.browser_fixtures import LiveServer
from tests.conftest import PASSWORD

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


@pytest.fixture
def sign_in(page: Page, live_server):
    """Sign the test's ``page`` in as the given user."""

    def sign_in_as(username: str, password: str = PASSWORD) -> None:
        sign_in_page(page, live_server.url, username, password)

    return sign_in_as


@pytest.fixture
def signed_in_page(new_context, live_server):
    """A page in a browser context of its own (its own cookies), signed in as another user.

    For two people working at once; the contexts are closed at the end of the test.
    """

    def open_as(username: str, password: str = PASSWORD) -> Page:
        other = new_context().new_page()
        sign_in_page(other, live_server.url, username, password)
        return other

    return open_as
