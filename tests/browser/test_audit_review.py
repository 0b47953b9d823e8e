"""Audit review in a real browser, on a desktop screen and on a phone: the monitor reads the
changes to critical data, marks them reviewed (CSRF on, as in production) and filters them;
the data manager filters the study-wide trail by subject."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import subjects
from tests.browser_fixtures import LiveServer
from tests.unit.review.conftest import CRITICAL_STUDY

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("test-artifacts") / "screenshots"
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
DM = ("DM", 1)


@pytest.fixture
def live_server(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, TESTING=False, STUDY_DEFINITION=CRITICAL_STUDY)
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def corrected(app, create_site, create_user, seed_once):
    def seed() -> None:
        create_site("BDX")
        with app.app_context():
            subject = subjects.register_subject(get_site("BDX"), actor=None)
            for version, values in enumerate(
                ({"SEX": "M", "WEIGHT": "70"}, {"SEX": "F", "PREG": "N"}, {"WEIGHT": "72"})
            ):
                save_form(
                    current_study(),
                    subject,
                    "SCR",
                    "DM",
                    {DM: values},
                    actor=None,
                    expected_version=version,
                )
            db.session.commit()
        create_user("monitor", Role.MONITOR)
        create_user("datamgr", Role.DATA_MANAGER)

    seed_once(app, "corrected", seed)


def _fits(page: Page, size: str) -> None:
    page.wait_for_load_state("load")  # widths are read with the stylesheets applied
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]


@pytest.mark.parametrize("size", SIZES)
def test_a_monitor_marks_the_changes_reviewed(page: Page, live_server, corrected, sign_in, size):
    page.set_viewport_size(SIZES[size])
    sign_in("monitor")
    page.goto(live_server.url + "/audit/review")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Audit review")
    expect(page.get_by_text("2 new since your last review")).to_be_visible()
    rows = page.locator("table.review-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Weight")
    expect(rows.nth(1)).to_contain_text("Male")  # the code list's label, not the code
    _fits(page, size)
    page.screenshot(path=SCREENSHOTS / f"audit-review-{size}.png", full_page=True)

    page.get_by_role("button", name="Mark 2 new changes reviewed").click()
    expect(page.locator(".flash-success")).to_contain_text("2 change(s) marked reviewed.")
    expect(page.get_by_text("0 new since your last review")).to_be_visible()
    expect(rows.locator(".status-ok")).to_have_count(2)

    page.get_by_label("Item").select_option("SEX")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Reviewed")
    _fits(page, size)


@pytest.mark.parametrize("size", SIZES)
def test_a_data_manager_filters_the_trail_by_subject(
    page: Page, live_server, corrected, sign_in, size
):
    page.set_viewport_size(SIZES[size])
    sign_in("datamgr")
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    page.get_by_label("Subject").fill("bdx-001")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.review-table tbody tr").first).to_contain_text("BDX-001")
    page.get_by_label("Subject").fill("BDX-999")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No subject BDX-999 at your sites.")).to_be_visible()
    _fits(page, size)
    page.screenshot(path=SCREENSHOTS / f"audit-trail-{size}.png", full_page=True)
