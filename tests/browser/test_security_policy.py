"""The Content-Security-Policy is live in Chromium and no page breaks it; leaving a form
with unsaved changes asks first."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role

pytestmark = pytest.mark.browser

FORM = "/subjects/BDX-001/visits/SCR/1/forms/DM"

#: Records every violation the page reports, before any of its own scripts run.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def ward(app, create_site, create_user, create_subject):
    create_site("BDX", "CHU de Bordeaux")
    create_subject("BDX")
    create_user("anurse", Role.SITE_STAFF, "BDX")


@pytest.fixture
def watched(page: Page):
    """The page, with CSP violations collected from events and from the console."""
    console: list[str] = []
    page.add_init_script(WATCH_VIOLATIONS)
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )

    def violations() -> list[str]:
        return page.evaluate("window.__cspViolations") + console

    page.violations = violations
    return page


def test_pages_keep_the_policy_and_the_form_conditions_still_work(
    watched: Page, live_server, ward, sign_in
):
    page = watched
    page.goto(live_server.url + "/login")
    assert page.violations() == []
    sign_in("anurse")
    for path in ("/subjects", "/subjects/BDX-001", "/", "/account", "/sites/"):
        page.goto(live_server.url + path)
        expect(page.locator("main")).to_be_visible()
        assert page.violations() == [], path

    page.goto(live_server.url + FORM)
    pregnant = page.locator('.item[data-item="PREG"]')
    expect(pregnant).to_be_hidden()  # conditions.js ran: only shown for women
    page.locator("#DM-1-SEX").select_option("F")
    expect(pregnant).to_be_visible()
    page.locator("#DM-1-SEX").select_option("M")
    expect(pregnant).to_be_hidden()
    assert page.violations() == []

    # The watch itself works: an injected inline script is blocked and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__injected = true'; document.body.append(s); }"
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__injected") is None
    assert any(v.startswith("script-src") for v in page.violations())


def test_leaving_a_form_with_unsaved_changes_asks_first(page: Page, live_server, ward, sign_in):
    dialogs: list[str] = []

    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # "Stay on this page"

    page.on("dialog", answer)
    sign_in("anurse")
    page.goto(live_server.url + FORM)
    page.get_by_role("link", name="Subjects").first.click()  # nothing typed: no question
    expect(page).to_have_url(live_server.url + "/subjects")
    assert dialogs == []

    page.goto(live_server.url + FORM)
    page.locator("#DM-1-WEIGHT").fill("72.5")
    with page.expect_event("dialog"):  # the question, answered by ``answer``
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Subjects").click()
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(live_server.url + FORM)  # stayed, with the value typed
    expect(page.locator("#DM-1-WEIGHT")).to_have_value("72.5")

    page.get_by_role("button", name="Save draft").click()  # saving is leaving on purpose
    expect(page.locator(".flash")).to_contain_text("Demographics saved")
    assert dialogs == ["beforeunload"]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Subjects").click()
    expect(page).to_have_url(re.compile(r"/subjects$"))
    assert dialogs == ["beforeunload"]
