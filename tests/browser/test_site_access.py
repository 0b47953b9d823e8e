"""Site isolation as a browser sees it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role

pytestmark = pytest.mark.browser


def test_site_staff_sees_own_site_and_gets_403_page_for_another(
    page: Page, live_server, create_site, create_user, rename_user, sign_in
):
    create_site("BDX", "CHU de Bordeaux")
    create_site("TLS", "CHU de Toulouse")
    rename_user(create_user("bnurse", Role.SITE_STAFF, "BDX"), "Bernard Nurse")
    rename_user(create_user("tnurse", Role.SITE_STAFF, "TLS"), "Thérèse Nurse")
    sign_in("bnurse")

    response = page.goto(live_server.url + "/sites/BDX")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("BDX CHU de Bordeaux")
    team = page.locator("table tbody tr")
    expect(team).to_have_count(1)
    expect(team).to_have_text("Bernard NurseSite staff")

    response = page.goto(live_server.url + "/sites/TLS")
    assert response.status == 403
    expect(page.locator(".status-code")).to_have_text("403")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator("main")).not_to_contain_text("Thérèse Nurse")
    expect(page.locator("main")).not_to_contain_text("CHU de Toulouse")
