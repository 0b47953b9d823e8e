"""An administrator creates an account through the form, in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth import services
from ecrf.auth.roles import Role

pytestmark = pytest.mark.browser

GOOD_PASSWORD = "a long enough initial password"


def test_admin_fixes_a_too_short_password_and_the_account_is_created(
    page: Page, live_server, create_site, create_user, sign_in
):
    create_site("BDX", "CHU de Bordeaux")
    create_user("admin", Role.ADMIN)
    sign_in("admin")

    page.goto(live_server.url + "/admin/users/new")
    page.get_by_label("Username").fill("jdupont")
    page.get_by_label("Full name").fill("Jeanne Dupont")
    page.get_by_label("E-mail").fill("jeanne.dupont@chu-bordeaux.fr")
    page.get_by_label("Initial password", exact=True).fill("short")
    page.get_by_label("Initial password again").fill("short")
    page.get_by_label("First role").select_option(label="Investigator")
    page.get_by_label("At site").select_option("BDX")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Create account").click()
    assert posted.value.status == 422

    expect(page).to_have_url(live_server.url + "/admin/users/new")
    password_field = page.locator(".field", has=page.locator("#password"))
    expect(password_field).to_have_class("field has-error")
    expect(password_field.locator(".error")).to_have_text("Use at least 12 characters.")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".error")).to_have_count(1)
    expect(page.get_by_label("Username")).to_have_value("jdupont")
    expect(page.get_by_label("Full name")).to_have_value("Jeanne Dupont")
    expect(page.get_by_label("E-mail")).to_have_value("jeanne.dupont@chu-bordeaux.fr")
    expect(page.get_by_label("First role")).to_have_value(Role.INVESTIGATOR.value)
    expect(page.get_by_label("At site")).to_have_value("BDX")
    with live_server.app.app_context():
        assert services.get_user("jdupont") is None

    page.get_by_label("Initial password", exact=True).fill(GOOD_PASSWORD)
    page.get_by_label("Initial password again").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(live_server.url + "/admin/users/jdupont")
    expect(page.locator(".flash")).to_have_text("Account jdupont created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jeanne Dupont jdupont")
    roles = page.locator("section", has=page.get_by_role("heading", name="Roles")).first
    expect(roles.locator("tbody tr td").nth(0)).to_have_text("Investigator")
    expect(roles.locator("tbody tr td").nth(1)).to_have_text("BDX")
    with live_server.app.app_context():
        user = services.get_user("jdupont")
        assert user is not None and user.email == "jeanne.dupont@chu-bordeaux.fr"


def test_the_new_user_must_replace_the_initial_password_first(
    page: Page, live_server, create_site, create_user, sign_in
):
    create_site("BDX", "CHU de Bordeaux")
    create_user("admin", Role.ADMIN)
    sign_in("admin")
    page.goto(live_server.url + "/admin/users/new")
    page.get_by_label("Username").fill("jdupont")
    page.get_by_label("Full name").fill("Jeanne Dupont")
    page.get_by_label("Initial password", exact=True).fill(GOOD_PASSWORD)
    page.get_by_label("Initial password again").fill(GOOD_PASSWORD)
    page.get_by_label("First role").select_option(label="Investigator")
    page.get_by_label("At site").select_option("BDX")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(live_server.url + "/admin/users/jdupont")
    page.get_by_role("button", name="Sign out").click()

    page.locator("input[name=username]").fill("jdupont")
    page.locator("input[name=password]").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/account")
    expect(page.locator(".flash")).to_contain_text("choose a new password of your own")
    page.goto(live_server.url + "/subjects")
    expect(page).to_have_url(live_server.url + "/account")

    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("Current password").fill(GOOD_PASSWORD)
    page.get_by_label("New password again").fill("password1234")
    page.get_by_role("button", name="Change password").click()
    error = page.locator(".field", has=page.locator("#password")).locator(".error")
    expect(error).to_contain_text("This password is too easy to guess.")
    expect(error).to_contain_text("This is a very common password.")

    page.get_by_label("Current password").fill(GOOD_PASSWORD)
    page.get_by_label("New password", exact=True).fill("jeanne picks her own phrase")
    page.get_by_label("New password again").fill("jeanne picks her own phrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".flash")).to_contain_text("Your password was changed.")
    page.goto(live_server.url + "/subjects")
    expect(page).to_have_url(live_server.url + "/subjects")
    with live_server.app.app_context():
        assert not services.get_user("jdupont").must_change_password
