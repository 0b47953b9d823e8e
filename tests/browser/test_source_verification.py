"""Source verification in Chromium: a monitor verifies a form, a nurse corrects a verified
value, and the monitor sees that item's verification withdrawn, on the form and on the
progress page, and verifies it again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role

pytestmark = pytest.mark.browser


def test_a_correction_withdraws_a_verification_the_monitor_sees_and_renews(
    page: Page,
    live_server,
    create_site,
    create_user,
    create_subject,
    sign_in,
    signed_in_page,
    tmp_path,
):
    create_site("BDX")
    create_user("monitor", Role.MONITOR, "BDX")
    create_user("bnurse", Role.SITE_STAFF, "BDX")
    identifier = create_subject(
        "BDX", {("SCR", "DM"): {("DM", 1): {"SEX": "F", "WEIGHT": "70", "HEIGHT": "170"}}}
    )
    form_url = f"{live_server.url}/subjects/{identifier}/visits/SCR/1/forms/DM"
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in("monitor")
    page.goto(form_url)
    panel = page.locator("#sdv")
    expect(panel.locator(".status")).to_have_text("Not verified")
    panel.get_by_role("button", name="Verify the whole form").click()
    expect(page.get_by_text("3 values verified.")).to_be_visible()
    expect(page.locator("#sdv .status")).to_have_text("Verified")

    nurse = signed_in_page("bnurse")
    nurse.goto(form_url)
    expect(nurse.locator("[data-item=WEIGHT] .sdv-verified")).to_be_visible()
    expect(nurse.get_by_role("button", name="Verify the whole form")).to_have_count(0)
    nurse.locator("#DM-1-WEIGHT").fill("71")
    nurse.get_by_role("button", name="Save draft").click()
    expect(nurse.locator(".flash, .flashes").first).to_contain_text("saved")

    page.reload()
    expect(page.locator("#sdv .status")).to_have_text("Partly verified: 2 of 3 values")
    weight = page.locator("[data-item=WEIGHT]")
    expect(weight.locator(".sdv-withdrawn")).to_contain_text("verification withdrawn")
    expect(weight.locator(".sdv-withdrawn")).to_contain_text("now: 71")
    page.screenshot(path=tmp_path / "withdrawn.png", full_page=True)

    page.goto(f"{live_server.url}/sdv")
    row = page.locator("tr", has=page.locator(f"text={identifier}"))
    expect(row.locator("[data-label=Withdrawn]")).to_have_text("1")

    page.goto(form_url)
    page.locator("[data-item=WEIGHT]").get_by_role("button", name="verify").click()
    expect(page.locator("#sdv .status")).to_have_text("Verified")
    expect(page.locator("[data-item=WEIGHT] .sdv-verified")).to_be_visible()
