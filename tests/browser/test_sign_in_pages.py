"""Signing in and out, and the lockout, through the real pages in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from ecrf.auth.roles import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def fill_sign_in(page: Page, username: str, password: str) -> Response:
    """Submit the sign-in form; return the response once the next page has loaded.

    Waiting for the load matters: a refused attempt re-shows the same page with the same
    message, so nothing visible tells that the next attempt may start.
    """
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign in").click()
    return navigation.value


def test_user_signs_in_sees_who_they_are_and_signs_out(
    page: Page, live_server, create_site, create_user, rename_user
):
    create_site("BDX", "CHU de Bordeaux")
    rename_user(create_user("emartin", Role.INVESTIGATOR, "BDX"), "Élodie Martin")

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("input[name=csrf_token]")).to_have_count(1)
    fill_sign_in(page, "emartin", PASSWORD)

    # Those who enter data land on the subject matrix; Home says who they are.
    expect(page).to_have_url(live_server.url + "/subjects")
    expect(page.get_by_role("heading", level=1)).to_have_text("Subjects")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Élodie Martin")
    expect(page.locator(".lead code")).to_have_text("emartin")
    roles = page.locator("section", has=page.get_by_role("heading", name="Your roles"))
    expect(roles.locator("li")).to_have_text(["Investigator at BDX — CHU de Bordeaux"])
    can_do = page.locator("section", has=page.get_by_role("heading", name="What you can do"))
    rows = can_do.locator("tbody tr")
    expect(rows.filter(has_text="See subjects and their case report forms")).to_contain_text("BDX")
    expect(rows.filter(has_text="Sign case report forms as investigator")).to_contain_text("BDX")
    expect(can_do).not_to_contain_text("Create accounts and assign roles")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(live_server.url + "/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/login")
    expect(page.locator("input[name=password]")).to_be_visible()


def test_locked_account_refuses_even_the_right_password(
    page: Page, live_server, create_site, create_user
):
    create_site("BDX")
    create_user("alice", Role.SITE_STAFF, "BDX")
    page.goto(live_server.url + "/login")
    errors = page.locator(".form-errors")

    for _ in range(4):
        assert fill_sign_in(page, "alice", "not the password").status == 422
        expect(errors).to_have_text("Unknown username or wrong password.")
    assert fill_sign_in(page, "alice", "not the password").status == 422
    expect(errors).to_contain_text("blocked for 15 minutes")

    assert fill_sign_in(page, "alice", PASSWORD).status == 422
    expect(errors).to_contain_text("Too many failed sign-ins")
    expect(errors).to_contain_text("blocked for 15 minutes")
    expect(page).to_have_url(live_server.url + "/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/login")
