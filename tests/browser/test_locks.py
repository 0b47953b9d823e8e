"""A lock refusing an edit, in Chromium: the nurse has a form open, the data manager locks
it from its own page; the nurse's save is refused at the top of the form, naming the lock,
and the form turns read-only; the matrix marks it; the data manager unlocks it, giving the
reason the page asks for, and the nurse saves."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from tests.browser.test_capture import click_and_get_status

pytestmark = pytest.mark.browser

FORM = "/subjects/BDX-001/visits/SCR/1/forms/DM"


@pytest.fixture
def clinic(create_site, create_user, create_subject):
    create_site("BDX", "CHU de Bordeaux")
    create_subject("BDX", {("SCR", "DM"): {("DM", 1): {"SEX": "M"}}})
    create_user("bnurse", Role.SITE_STAFF, "BDX")
    create_user("data.manager", Role.DATA_MANAGER)


def test_a_lock_refuses_the_nurses_edit_until_unlocked(
    page: Page, live_server, clinic, sign_in, signed_in_page
):
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in("bnurse")
    page.goto(base + FORM)
    page.locator("#DM-1-SEX").select_option("F")

    manager = signed_in_page("data.manager")
    manager.goto(base + FORM)
    manager.get_by_role("link", name="Lock this form…").click()
    expect(manager.locator("main")).to_contain_text(
        "To lock: form Demographics of visit Screening, subject BDX-001"
    )
    manager.get_by_label("Reason (optional)").fill("Cleaned for the interim analysis")
    manager.get_by_role("button", name="Lock", exact=True).click()
    expect(manager).to_have_url(base + FORM)
    expect(manager.locator(".flash")).to_contain_text("Locked: form Demographics")
    expect(manager.locator(".lock-notice")).to_contain_text("Locked: this form was locked by")

    # The nurse saves the change typed before the lock: refused at the top, nothing saved.
    status = click_and_get_status(page, page.get_by_role("button", name="Save draft"))
    assert status == 422
    expect(page.locator(".form-errors")).to_contain_text(
        re.compile(
            r"This form is locked: Demographics of visit Screening of BDX-001 was locked by "
            r"Data\.Manager on \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Nothing was saved; ask a data "
            r"manager to unlock it"
        )
    )
    expect(page.locator("#DM-1-SEX")).to_be_disabled()
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    page.goto(base + FORM)
    expect(page.locator("#DM-1-SEX")).to_have_value("M")
    page.goto(base + "/subjects")
    expect(page.locator('a[href$="#visit-SCR-1"] .lock-flag')).to_have_text("locked")

    # Unlocking asks why, at the field.
    manager.locator(".lock-notice").get_by_role("link", name="Unlock…").click()
    manager.get_by_role("button", name="Unlock").click()
    expect(manager.locator("#reason-error")).to_have_text("Say why the data are unlocked.")
    manager.get_by_label("Why unlock").fill("Query 4: the sex is corrected from the source")
    manager.get_by_role("button", name="Unlock").click()
    expect(manager.locator(".flash")).to_contain_text("Unlocked: form Demographics")

    page.goto(base + FORM)
    page.locator("#DM-1-SEX").select_option("F")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash")).to_contain_text("Demographics saved")
    page.goto(base + "/subjects")
    expect(page.locator(".lock-flag:not(.legend .lock-flag)")).to_have_count(0)
