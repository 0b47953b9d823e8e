"""The dashboards in Chromium, at 1366×768 and on a phone: a site's nurse meets the SAE clock
on the dashboard of the menu; the monitor records a visit from the preparation page (a
future date refused at the field), and nothing is wider than the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.db import utcnow

pytestmark = pytest.mark.browser

SERIOUS_AE = {("AE", 1): {"AENUM": "1", "AETERM": "Sepsis", "AESTDAT": "2024-05-01", "AESER": "Y"}}
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


@pytest.fixture
def live_server(make_app):
    from tests.browser_fixtures import LiveServer

    app = make_app(
        WTF_CSRF_ENABLED=True,
        TESTING=False,
        STUDY_DEFINITION="tests.definitions.dashboards:STUDY",
    )
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def clinic(app, create_site, create_user, create_subject, seed_once):
    def seed() -> None:
        create_site("BDX", "CHU de Bordeaux")
        create_site("TLS", "CHU de Toulouse")
        create_subject("BDX", {("LOGS", "AE"): SERIOUS_AE})
        create_subject("TLS", {("LOGS", "AE"): SERIOUS_AE})
        create_user("nurse.bdx", Role.SITE_STAFF, "BDX")
        create_user("monitor.bdx", Role.MONITOR, "BDX")

    seed_once(app, "clinic", seed)


def fits_the_screen(page: Page) -> None:
    page.wait_for_load_state("load")  # widths are read with the stylesheets applied
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_the_nurse_sees_the_sae_clock_of_her_site_only(
    page: Page, live_server, clinic, sign_in, size
):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in("nurse.bdx")
    page.goto(live_server.url + "/subjects")  # where she lands after signing in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard of BDX")
    clock = page.locator("#serious_events")
    expect(clock).to_contain_text("SAE reports due: 1")
    expect(clock.locator("tbody tr")).to_have_count(1)
    expect(clock.locator("tbody tr")).to_contain_text("BDX-001")
    expect(clock.locator("tbody tr")).to_contain_text("h left")
    expect(page.locator("main")).not_to_contain_text("TLS-001")
    fits_the_screen(page)


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_the_monitor_records_a_visit_from_the_preparation(
    page: Page, live_server, clinic, sign_in, size
):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in("monitor.bdx")
    page.goto(live_server.url + "/sites/BDX/dashboard")
    page.get_by_role("link", name="Visit preparation").click()
    expect(page.locator(".page-head")).to_contain_text("No monitoring visit recorded yet")
    fits_the_screen(page)

    future = (utcnow().date() + timedelta(days=2)).isoformat()
    page.get_by_label("Date of the visit").fill(future)
    page.get_by_role("button", name="Record the visit").click()
    expect(page.locator("#visit_date-error")).to_have_text("The visit cannot be in the future.")
    expect(page.get_by_label("Date of the visit")).to_be_in_viewport()

    day = (utcnow().date() - timedelta(days=1)).isoformat()
    page.get_by_label("Date of the visit").fill(day)
    page.get_by_role("button", name="Record the visit").click()
    expect(page.get_by_role("status")).to_have_text(f"Monitoring visit of {day} recorded.")
    expect(page.locator(".page-head")).to_contain_text(f"Last monitoring visit {day}")
    fits_the_screen(page)
