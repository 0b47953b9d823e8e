"""Fixtures for real-browser tests: Debian's Chromium through Playwright, and a live server."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from slugify import slugify
from werkzeug.serving import make_server

#: Debian's build of Chromium's headless shell (package chromium-headless-shell): the same
#: Blink and V8 as /usr/bin/chromium without the desktop browser around them, and what
#: Playwright itself runs for headless Chromium. The browser tests took half the CPU with
#: it (47 s against 85 s for tests/browser on 2 cores, every test passing with both).
CHROMIUM = "/usr/bin/chromium-headless-shell"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Never a downloaded browser: hospital-like closed networks, and the CI machines.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Screenshots of a failed test's pages, full length, in ``--output``/<test>/.

    pytest-playwright's ``--screenshot=only-on-failure`` takes one of every page as each
    browser context closes, whether the test failed or not, and deletes those of the tests
    that passed: a tenth of a second per page. These are taken when a test has failed, while
    its pages are still open, and only with ``--screenshot`` left off (its default).
    """
    outcome = yield
    report = outcome.get_result()
    if not report.failed or report.when == "teardown":
        return
    browser = getattr(item, "funcargs", {}).get("browser")
    if browser is None or item.config.getoption("--screenshot") != "off":
        return
    folder = Path(item.config.getoption("--output")) / slugify(item.nodeid)[:200]
    pages = [page for context in browser.contexts for page in context.pages]
    for number, page in enumerate(pages, start=1):
        # A page that cannot be drawn any more is left out: the report still says why.
        with contextlib.suppress(PlaywrightError):
            page.screenshot(path=folder / f"test-failed-{number}.png", full_page=True, timeout=5000)


class LiveServer:
    def __init__(self, app) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(make_app):
    """The app, with CSRF on as in production, served on 127.0.0.1 from a thread."""
    app = make_app(WTF_CSRF_ENABLED=True, TESTING=False)
    server = LiveServer(app).start()
    yield server
    server.stop()
