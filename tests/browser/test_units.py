"""A laboratory value entered with its unit, in Chromium, on the real trial's form: the
unit list beside the input, each unit's range at the field, no sideways scrolling on a
1366×768 screen."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.laboratories import services as registry
from ecrf.records.loader import current_study
from ecrf.records.models import ItemValue
from ecrf.records.sites import get_site

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("test-artifacts") / "screenshots"


@pytest.fixture
def live_server(trial_live_server):
    return trial_live_server


@pytest.fixture
def ward(create_site, create_user, create_subject):
    create_site("BDX", "CHU de Bordeaux")
    create_user("bnurse", Role.SITE_STAFF, "BDX")
    return create_subject("BDX")


def stored(app, item_oid: str) -> tuple[str | None, str | None]:
    with app.app_context():
        return db.session.execute(
            sa.select(ItemValue.value_text, ItemValue.unit).where(ItemValue.item_oid == item_oid)
        ).one()


def test_a_count_is_entered_with_its_unit_and_checked_against_that_units_range(
    page: Page, app, live_server, ward, sign_in
):
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in("bnurse")
    page.goto(f"{live_server.url}/subjects/{ward}/visits/SCR/1/forms/LBHEM")
    neutrophils = page.locator('.item[data-item="NEUT"]')
    unit = page.get_by_label("Unit of Neutrophils", exact=True)
    expect(unit).to_have_value("/mm3")  # nothing stored: the standard unit, as before
    expect(unit.locator("option")).to_have_text(["unit…", "/mm3", "G/L"])
    expect(page.locator('.item[data-item="NEUTLLN"] .units')).to_have_text(
        "in the unit of neutrophils"
    )
    page.locator("#LBHEM-1-LBDAT").fill("2025-01-08")

    # 3 per mm³ is a count in G/L typed in the wrong unit: that unit's range refuses it
    page.locator("#LBHEM-1-NEUT").fill("3")
    page.get_by_role("button", name="Save draft").click()
    expect(neutrophils.locator(".error")).to_have_text(
        "3 /mm3 is impossible here (expected 10 to 200000 /mm3): was it reported in G/L?"
        " Please check the unit."
    )
    expect(page.get_by_label("Unit of Neutrophils", exact=True)).to_have_value("/mm3")
    page.wait_for_load_state("load")  # widths are read with the stylesheets applied
    width = page.evaluate("document.documentElement.scrollWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "units-refused-1366.png", full_page=True)
    assert width <= 1366

    # a value without its unit is refused at its field
    page.get_by_label("Unit of Neutrophils", exact=True).select_option(label="unit…")
    page.get_by_role("button", name="Save draft").click()
    expect(neutrophils.locator(".error")).to_have_text("Choose the unit of this value.")

    page.get_by_label("Unit of Neutrophils", exact=True).select_option(label="G/L")
    page.locator("#LBHEM-1-NEUTLLN").fill("1.8")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash")).to_have_text("Haematology saved (in progress).")
    assert stored(app, "NEUT") == ("3", "10*9/L")
    assert stored(app, "NEUTLLN") == ("1.8", "10*9/L")
    # shown as entered, its unit chosen; the grade read 3000/mm³ against 1800/mm³
    expect(page.locator("#LBHEM-1-NEUT")).to_have_value("3")
    expect(page.get_by_label("Unit of Neutrophils", exact=True)).to_have_value("10*9/L")
    expect(page.locator('.item[data-item="NEUTGR"] output')).to_have_text("0")
    page.screenshot(path=SCREENSHOTS / "units-saved-1366.png", full_page=True)
    page.wait_for_load_state("load")  # widths are read with the stylesheets applied
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    # the history says the unit
    page.locator('.item[data-item="NEUT"]').get_by_role("link", name="history").click()
    expect(page.locator("table tbody tr td").nth(4)).to_have_text("3 G/L")  # labels, not UCUM codes


def test_choosing_the_laboratory_fills_its_units_and_limits(
    page: Page, app, live_server, ward, sign_in
):
    with app.app_context():
        lab = registry.add_laboratory(get_site("BDX"), "CHU Bordeaux – Biologie", actor=None)
        typed = registry.RangeInput(
            testcd="NEUT", unit="10*9/L", low="1.8", valid_from="2020-01-01"
        )
        registry.add_range(current_study(), lab, typed, actor=None)
        db.session.commit()
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in("bnurse")
    page.goto(f"{live_server.url}/subjects/{ward}/visits/SCR/1/forms/LBHEM")
    unit = page.get_by_label("Unit of Neutrophils", exact=True)
    limit = page.locator("#LBHEM-1-NEUTLLN")
    expect(unit).to_have_value("/mm3")
    page.locator("#LBHEM-1-LBNAM").select_option("CHU Bordeaux – Biologie")
    expect(unit).to_have_value("10*9/L")
    expect(limit).to_have_value("1.8")
    # a limit the user typed is never overwritten
    limit.fill("1.5")
    page.locator("#LBHEM-1-LBNAM").select_option("")
    page.locator("#LBHEM-1-LBNAM").select_option("CHU Bordeaux – Biologie")
    expect(limit).to_have_value("1.5")
