"""The top menu of the person with the most entries in it (a data manager) reads on one line
of a hospital laptop, and in a few short lines on a phone, under the brand and the account."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from ecrf.auth.roles import Role

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_server(trial_live_server):
    return trial_live_server


@pytest.fixture
def data_manager(create_user, rename_user):
    rename_user(create_user("datamgr", Role.DATA_MANAGER), "Marie-Hélène Dupont-Lefèvre")
    return "datamgr"


def _menu_lines(page: Page) -> int:
    page.wait_for_load_state("load")  # positions are read with the stylesheets applied
    tops = page.locator(".topbar nav a").evaluate_all(
        "links => links.map(a => Math.round(a.getBoundingClientRect().top))"
    )
    assert len(tops) >= 12, tops  # every entry a data manager has is there
    return len(set(tops))


def test_a_data_managers_menu_is_one_line_on_a_laptop(
    page: Page, live_server, data_manager, sign_in
):
    page.set_viewport_size(LAPTOP)
    sign_in(data_manager)
    page.goto(live_server.url + "/")  # where a data manager lands after signing in
    assert _menu_lines(page) == 1
    assert page.locator(".topbar").bounding_box()["height"] < 60


def test_on_a_phone_the_menu_goes_under_the_brand_in_a_few_lines(
    page: Page, live_server, data_manager, sign_in
):
    page.set_viewport_size(PHONE)
    sign_in(data_manager)
    page.goto(live_server.url + "/")
    assert _menu_lines(page) <= 3
    brand = page.locator(".topbar .brand").bounding_box()
    first_link = page.locator(".topbar nav a").first.bounding_box()
    assert first_link["y"] > brand["y"] + brand["height"] - 1
    assert page.locator(".topbar").bounding_box()["height"] < 200
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
