"""Browser tests put their data in the live server's database, and sign in through the form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.models import User
from ecrf.extensions import db
from tests.conftest import PASSWORD


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


@pytest.fixture
def sign_in(page: Page, live_server):
    """Sign in through the real sign-in form and wait for the landing page.

    People who enter data land on the subject matrix; the others on the home page.
    """

    def sign_in_as(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/login")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/(subjects)?$"))

    return sign_in_as
