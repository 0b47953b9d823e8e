"""The widest form table (the PET-IAH's lesions) fits a hospital laptop's screen; on a
narrower one it scrolls in its own box: the page never scrolls sideways, not even for the
hidden labels of its cells."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.crf import visits
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Subject
from tests.conftest import in_app
from tests.iahprrt_patient import save_screening

pytestmark = pytest.mark.browser

CONSENT = date(2025, 1, 6)
LAPTOP = {"width": 1366, "height": 768}
SMALL_LAPTOP = {"width": 1024, "height": 768}


@pytest.fixture
def live_server(trial_live_server):
    return trial_live_server


@pytest.fixture
def patient(app, create_site, create_user, create_subject, seed_once):
    def seed() -> str:
        create_site("BDX", "CHU de Bordeaux")
        create_user("bnurse", Role.SITE_STAFF, "BDX")
        identifier = create_subject("BDX")
        with in_app(app):
            study = current_study()
            subject = db.session.query(Subject).filter_by(identifier=identifier).one()
            save_screening(study, subject, None, CONSENT)
            visits.set_visit_date(study, subject, "PETIV", CONSENT + timedelta(days=14), actor=None)
            visits.set_visit_date(
                study, subject, "PETIAH", CONSENT + timedelta(days=21), actor=None
            )
            db.session.commit()
        return identifier

    return seed_once(app, "patient", seed)


def _open_lesion_table(page: Page, live_server, patient, sign_in):
    sign_in("bnurse")
    page.goto(f"{live_server.url}/subjects/{patient}/visits/PETIAH/1/forms/PETIAH")
    lesions = page.locator('table.rows[data-group="IDX"]')
    for _ in range(2):
        page.locator('button[value="add_row:IDX"]').click()
    expect(lesions.locator("tbody tr")).to_have_count(2)
    # Widths are read once the page's stylesheets apply (the row's POST reloads the page).
    page.wait_for_load_state("load")
    return page.locator(".table-wrap", has=lesions)


def test_the_pet_lesion_table_fits_a_laptop_screen(page: Page, live_server, patient, sign_in):
    page.set_viewport_size(LAPTOP)
    wrap = _open_lesion_table(page, live_server, patient, sign_in)
    # every column, up to the row's "Remove", is in view: nothing to scroll
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert wrap.evaluate("e => e.getBoundingClientRect().right") <= LAPTOP["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]


def test_on_a_narrower_screen_the_pet_lesion_table_scrolls_in_its_box_not_the_page(
    page: Page, live_server, patient, sign_in
):
    page.set_viewport_size(SMALL_LAPTOP)
    wrap = _open_lesion_table(page, live_server, patient, sign_in)
    # the table reaches beyond the screen's right edge…
    assert (
        wrap.evaluate("e => e.getBoundingClientRect().left + e.scrollWidth") > SMALL_LAPTOP["width"]
    )
    # …in its box: the page does not scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_LAPTOP["width"]
