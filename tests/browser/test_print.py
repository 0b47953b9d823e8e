"""Pages a monitor prints: Chromium prints them (to PDF) without navigation or buttons, with
who printed and when on top and the sheet numbers at the bottom; tables stay tables."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ecrf.auth.roles import Role

pytestmark = pytest.mark.browser

PRINTS = Path("test-artifacts") / "prints"


@pytest.fixture
def subject(app, create_site, create_user, create_subject):
    create_site("BDX")
    create_user("mon", Role.MONITOR, "BDX")
    dm = {"SEX": "F", "BRTHYM": "1961-03", "WEIGHT": "61.5", "HEIGHT": "164"}
    return create_subject("BDX", {("SCR", "DM"): {("DM", 1): dm}})


def _print(page: Page, name: str) -> str:
    """Print the page as Chromium does (print media, A4) and the text of the PDF."""
    PRINTS.mkdir(parents=True, exist_ok=True)
    path = PRINTS / f"{name}.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(path), format="A4", print_background=True, display_header_footer=False)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize("where", ["subject", "matrix", "form"])
def test_a_printed_page_shows_the_data_and_who_printed_it_not_the_controls(
    page: Page, live_server, sign_in, subject, where
):
    sign_in("mon")
    path = {
        "subject": f"/subjects/{subject}",
        "matrix": "/subjects",
        "form": f"/subjects/{subject}/visits/SCR/1/forms/DM",
    }[where]
    page.goto(live_server.url + path)
    assert page.locator(".print-stamp").is_hidden()  # on screen: not shown
    text = _print(page, where)
    assert "Printed by mon · page generated" in text
    assert "Page 1 of" in text and "all times in UTC" in text
    assert subject in text
    for control in ("Sign out", "Reports", "My jobs", "Casebook (PDF)"):
        assert control not in text, control
    page.emulate_media(media="print")
    assert page.locator("nav[aria-label=Main]").is_hidden()
    assert page.locator(".print-stamp").is_visible()
