"""The jobs pages in a real browser, on a desktop screen and on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.jobs import services
from ecrf.jobs.models import Job, JobState
from tests.browser_fixtures import LiveServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("test-artifacts") / "screenshots"
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def live_server(make_app, tmp_path):
    # The list reloads itself every second while a job runs (3 by default): the test waits
    # for one reload, not three seconds.
    app = make_app(
        WTF_CSRF_ENABLED=True,
        TESTING=False,
        EXPORT_DIR=str(tmp_path / "exports"),
        JOBS_REFRESH_SECONDS=1,
    )
    server = LiveServer(app).start()
    yield server
    server.stop()


def _running_and_failed(app, user_id: int) -> None:
    with app.app_context():
        now = utcnow()
        db.session.add_all(
            [
                Job(
                    user_id=user_id,
                    kind="audit",
                    site_codes="BDX",
                    state=JobState.FAILED,
                    error=services.UNEXPECTED,
                    created_at=now,
                    finished_at=now,
                ),
                Job(
                    user_id=user_id,
                    kind="audit",
                    state=JobState.RUNNING,
                    progress_done=1234,
                    progress_total=5000,
                    created_at=now,
                    started_at=now,
                    heartbeat_at=now,
                ),
            ]
        )
        db.session.commit()


@pytest.mark.parametrize("size", SIZES)
def test_start_an_extract_follow_it_and_download_it(
    page: Page, live_server, create_site, create_user, sign_in, size
):
    page.set_viewport_size(SIZES[size])
    create_site("BDX")
    create_site("TLS")
    user_id = create_user("dm.all", Role.DATA_MANAGER)
    sign_in("dm.all")
    page.goto(live_server.url + "/")  # where a data manager lands after signing in

    page.get_by_role("link", name="My jobs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My jobs")
    page.get_by_role("link", name="New extract").click()
    page.get_by_label("Extract").select_option("audit")
    page.get_by_label("Sites").select_option("BDX")
    page.screenshot(path=SCREENSHOTS / f"jobs-new-{size}.png", full_page=True)
    page.get_by_role("button", name="Start the extract").click()

    expect(page.locator(".flash-success")).to_contain_text("The extract was started")
    # The page reloads itself while the job runs, until its download link shows (looked for
    # every 50 ms in the page: an expect's retries space out to half a second).
    download_link = page.get_by_role("link", name="Download")
    page.wait_for_function(
        "() => [...document.querySelectorAll('a')].some(a => a.textContent.includes('Download'))",
        polling=50,
        timeout=20_000,
    )
    expect(download_link).to_be_visible()
    expect(page.locator("tbody tr").first).to_contain_text("Ready")
    expect(page.locator("tbody tr").first).to_contain_text("100 %")
    with page.expect_download() as info:
        download_link.click()
    assert info.value.suggested_filename == "audit-trail.csv"
    assert Path(info.value.path()).read_text().startswith("seq,at_utc,actor,action")

    _running_and_failed(live_server.app, user_id)
    page.goto(live_server.url + "/jobs")
    expect(page.locator("progress")).to_have_count(2)
    expect(page.get_by_text("24 % · 1234 of 5000")).to_be_visible()
    expect(page.get_by_text(services.UNEXPECTED)).to_be_visible()
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    # Nothing overflows the screen sideways but the table, which scrolls in its frame.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"]
    page.screenshot(path=SCREENSHOTS / f"jobs-list-{size}.png", full_page=True)
