"""The real trial's laboratory forms as tables in Chromium: one row per analyte (value and
unit, limits, CTCAE grade with its baseline, flag), no sideways scrolling on a 1366×768
laptop, one block per analyte on a phone; messages stay at their cell."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.crf import services, visits
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Subject
from tests.conftest import in_app
from tests.iahprrt_patient import save_screening

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("test-artifacts") / "screenshots"
CONSENT = date(2025, 1, 6)
PET_IV = CONSENT + timedelta(days=14)
LATER = PET_IV + timedelta(days=31)
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_server(trial_live_server):
    return trial_live_server


@pytest.fixture
def patient(app, create_site, create_user, create_subject, seed_once):
    """Screened (ALT 30, ULN 40), PET-IV dated, and an unscheduled sample after it with
    ALT 160: 4 × ULN, graded against the screening baseline."""

    def seed() -> str:
        create_site("BDX", "CHU de Bordeaux")
        create_user("bnurse", Role.SITE_STAFF, "BDX")
        identifier = create_subject("BDX")
        with in_app(app):
            study = current_study()
            subject = db.session.query(Subject).filter_by(identifier=identifier).one()
            save_screening(study, subject, None, CONSENT)
            visits.set_visit_date(study, subject, "PETIV", PET_IV, actor=None)
            visit = visits.add_unscheduled_visit(study, subject, "UNS", LATER, actor=None)
            sample = {"LBDAT": LATER.isoformat(), "ALT": "160", "ALTULN": "40"}
            services.save_form(
                study,
                subject,
                "UNS",
                "LBCHEM",
                {("LBCHEM", 1): sample},
                actor=None,
                expected_version=0,
                visit_repeat=visit.repeat_key,
            )
            db.session.commit()
        return identifier

    return seed_once(app, "patient", seed)


def fits(page: Page) -> bool:
    page.wait_for_load_state("load")  # widths are read with the stylesheets applied
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.mark.parametrize("form_oid", ["LBHEM", "LBCHEM", "COAG"])
def test_each_lab_form_is_a_table_that_fits_a_laptop_and_a_phone(
    page: Page, live_server, patient, sign_in, form_oid
):
    page.set_viewport_size(LAPTOP)
    sign_in("bnurse")
    page.goto(f"{live_server.url}/subjects/{patient}/visits/SCR/1/forms/{form_oid}")
    table = page.locator("table.analytes")
    expect(table).to_be_visible()
    shoot(page, f"lab-{form_oid}-1366")
    assert fits(page)
    page.set_viewport_size(PHONE)
    shoot(page, f"lab-{form_oid}-390")
    assert fits(page)
    # on paper (the monitor's print), the rows stay a table
    page.set_viewport_size(LAPTOP)
    page.emulate_media(media="print")
    expect(table.locator("thead")).to_be_visible()
    shoot(page, f"lab-{form_oid}-print")


def test_a_row_shows_value_limits_grade_baseline_and_flag(
    page: Page, live_server, patient, sign_in
):
    page.set_viewport_size(LAPTOP)
    sign_in("bnurse")
    page.goto(f"{live_server.url}/subjects/{patient}/visits/UNS/1/forms/LBCHEM")
    alt = page.locator('tr[data-analyte="ALT"]')
    expect(alt.locator("th")).to_contain_text("ALT (alanine aminotransferase)")
    expect(alt.locator("#LBCHEM-1-ALT")).to_have_value("160")
    expect(alt.locator("#LBCHEM-1-ALTULN")).to_have_value("40")
    expect(alt.locator("#LBCHEM-1-ALTGR")).to_have_text("2")
    expect(alt.locator(".baseline")).to_have_text(
        "baseline: 30 U/L on 2025-01-08 (Screening / inclusion)"
    )
    expect(alt.locator(".lab-flag")).to_have_attribute("title", "Above the upper limit of normal")
    expect(alt.locator("#LBCHEM-1-ALTXULN")).to_have_text("4.00 × ULN")
    expect(page.locator(".baseline-rule")).to_contain_text(
        "before the first study radiopharmaceutical administration"
    )
    shoot(page, "lab-LBCHEM-UNS-1366")
    assert fits(page)

    # the flag follows the value as it is typed: at the ULN normal, just above it high
    page.locator("#LBCHEM-1-ALT").fill("40")
    expect(alt.locator(".lab-flag")).to_have_count(0)
    page.locator("#LBCHEM-1-ALT").fill("40.5")
    expect(alt.locator(".lab-flag")).to_have_text("HAbove the upper limit of normal")
    alb = page.locator('tr[data-analyte="ALB"]')
    page.locator("#LBCHEM-1-ALBLLN").fill("3.5")
    page.locator("#LBCHEM-1-ALB").fill("3.4")
    expect(alb.locator(".lab-flag")).to_have_attribute("title", "Below the lower limit of normal")
    page.locator("#LBCHEM-1-ALB").fill("3.5")
    expect(alb.locator(".lab-flag")).to_have_count(0)
    page.locator("#LBCHEM-1-ALB").fill("")
    page.locator("#LBCHEM-1-ALBLLN").fill("")
    page.locator("#LBCHEM-1-ALT").fill("160")

    # a refused value keeps its message in its own cell
    page.locator("#LBCHEM-1-AST").fill("99999")
    page.get_by_role("button", name="Save draft").click()
    ast = page.locator('tr[data-analyte="AST"]')
    expect(ast.locator("td.result .error")).to_contain_text("impossible")
    shoot(page, "lab-LBCHEM-refused-1366")
    assert fits(page)


def test_the_screening_sample_before_the_first_injection_is_its_own_baseline(
    page: Page, live_server, patient, sign_in
):
    sign_in("bnurse")
    page.goto(f"{live_server.url}/subjects/{patient}/visits/SCR/1/forms/LBHEM")
    expect(page.locator('tr[data-analyte="HGB"] .baseline')).to_have_text(
        "this sample is the baseline"
    )
    # screening haemoglobin 12.5 g/dL against its LLN 12.0: no flag
    expect(page.locator('tr[data-analyte="HGB"] .lab-flag')).to_have_count(0)
