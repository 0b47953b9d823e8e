"""The idle warning, staying signed in, and a form saved after the time-out kept, in Chromium.

The idle limit is cut to 6 seconds and the warning to 4, so the warning shows 2 seconds
after each page load (long enough to see the banner hidden in between), and lasts 4: long
enough, on a loaded machine, for the other tab's page load while it first shows, and for the
screenshots and the click on "Stay signed in" while it shows again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.records.models import FormEntry, ItemValue
from tests.browser_fixtures import LiveServer
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

FORM = "/subjects/BDX-001/visits/SCR/1/forms/DM"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def live_server(make_app):
    app = make_app(
        WTF_CSRF_ENABLED=True,
        TESTING=False,
        SESSION_IDLE_MINUTES=0.1,
        SESSION_IDLE_WARNING_SECONDS=4,
    )
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def ward(app, create_site, create_user, create_subject):
    create_site("BDX", "CHU de Bordeaux")
    create_subject("BDX")
    create_user("anurse", Role.SITE_STAFF, "BDX")


def shoot(page: Page, output_path: str, name: str) -> None:
    """Screenshots at desktop and phone sizes, kept with the test's artifacts for review."""
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=folder / f"{name}-{size_name}.png")
    page.set_viewport_size(DESKTOP)


def wait_for_banner(page: Page, state: str, timeout: float = 10_000) -> None:
    """Wait until idle.js shows the banner in ``state`` ("warning" or "ended"), checking every
    50 ms in the page: an expect's retries space out to half a second, which would add up to
    1.5 s to this test. The expects that follow check what the banner says."""
    page.wait_for_function(
        """state => {
            const banner = document.getElementById("idle-warning");
            return !banner.hidden && !banner.querySelector(`[data-idle-state="${state}"]`).hidden;
        }""",
        arg=state,
        polling=50,
        timeout=timeout,
    )


def stored(app) -> dict[str, object]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(ItemValue.item_oid, ItemValue.value_text, ItemValue.value_number)
        ).all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FormEntry)) == 1
        return {item: text if text is not None else number for item, text, number in rows}


def test_warned_before_the_time_out_then_nothing_typed_is_lost(
    page: Page, live_server, app, ward, sign_in, output_path
):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    page.set_viewport_size(DESKTOP)
    sign_in("anurse")
    page.goto(live_server.url + FORM)
    banner = page.locator("#idle-warning")
    expect(banner).to_be_hidden()
    page.locator("#DM-1-WEIGHT").fill("72.5")
    page.locator("#DM-1-HEIGHT").fill("168")
    page.locator("#DM-1-NOTE").fill("typed before the time-out")

    # The warning comes, with a countdown and a button that keeps the session.
    wait_for_banner(page, "warning")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("You will be signed out in")
    expect(banner).to_have_attribute("role", "alert")

    # Work in another tab keeps the session too: this tab's warning goes away.
    other = page.context.new_page()
    other.goto(live_server.url + "/subjects/BDX-001")
    expect(banner).to_be_hidden()
    other.close()
    wait_for_banner(page, "warning")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("You will be signed out in")
    shoot(page, output_path, "idle-warning")
    with page.expect_response(re.compile(r"/session/keep-alive$")) as kept_alive:
        banner.get_by_role("button", name="Stay signed in").click()
    assert kept_alive.value.status == 204
    expect(banner).to_be_hidden()

    # Nobody answers this time: the page says the session ended and what to do.
    wait_for_banner(page, "ended", timeout=30_000)
    expect(banner.locator('[data-idle-state="ended"]')).to_be_visible()
    expect(banner).to_contain_text("What you typed is not lost")
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator(".flash-warning")).to_contain_text("the values you typed are kept")

    page.locator("input[name=username]").fill("anurse")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + FORM)
    expect(page.locator(".flash-warning")).to_contain_text(
        "the values you typed are shown again, not saved yet: check them and save"
    )
    expect(page.locator("#DM-1-WEIGHT")).to_have_value("72.5")
    expect(page.locator("#DM-1-HEIGHT")).to_have_value("168")
    expect(page.locator("#DM-1-NOTE")).to_have_value("typed before the time-out")
    shoot(page, output_path, "restored-form")

    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_contain_text("Demographics saved (in progress)")
    assert dialogs == []  # every leaving was a save
    values = stored(app)
    assert values["WEIGHT"] == "72.5" and values["HEIGHT"] == "168"
    assert values["NOTE"] == "typed before the time-out"
