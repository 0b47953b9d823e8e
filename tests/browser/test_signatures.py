"""An investigator signs a visit in Chromium: the page shows what is signed and the
meaning, asks for the username and password at the first signing; a later correction by
the site shows the signature no longer valid, saying why, and the investigator signs again
with the password alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import subjects
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def save_labs(app, values, version, reason=None):
    with app.app_context():
        subject = subjects.get_subject("BDX-001")
        save_form(
            current_study(),
            subject,
            "SCR",
            "LB",
            {("LB", 1): values},
            actor=None,
            expected_version=version,
            complete=True,
            reason=reason,
        )
        db.session.commit()


def test_an_investigator_signs_and_signs_again_after_a_correction(
    page: Page, live_server, app, create_site, create_user, rename_user, sign_in
):
    create_site("BDX", "CHU de Bordeaux")
    rename_user(create_user("doc", Role.INVESTIGATOR, "BDX"), "Dr Louise Dupont")
    with app.app_context():
        subjects.register_subject(get_site("BDX"), actor=None)
        db.session.commit()
    save_labs(app, {"LBDAT": "2024-05-02", "HGB": "13"}, 0)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in("doc")
    page.goto(f"{live_server.url}/subjects/BDX-001")
    signatures = page.locator("#signatures")
    expect(signatures).to_contain_text("not signed")
    signatures.locator("tr[data-scope=visit-SCR-1]").get_by_role("link", name="Sign").click()
    expect(page.get_by_role("heading", name="Sign the visit Screening")).to_be_visible()
    expect(page.locator(".signed-content")).to_contain_text("13.0 g/dL")
    expect(page.locator("blockquote.meaning")).to_contain_text("I attest that")
    page.get_by_label("Password").fill("not my password")
    page.get_by_label("Username").fill("doc")
    page.get_by_role("button", name="Sign electronically").click()
    expect(page.locator(".has-error")).to_contain_text("Wrong username or password.")
    page.get_by_label("Username").fill("doc")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign electronically").click()
    row = page.locator("#signatures tr[data-scope=visit-SCR-1]")
    expect(row).to_contain_text("Dr Louise Dupont (investigator)")
    expect(row).to_contain_text("UTC")

    save_labs(app, {"HGB": "14"}, 1, reason="transcription error")
    page.reload()
    expect(row).to_contain_text("no longer valid")
    expect(row).to_contain_text("Data changed after signing: Screening › Haematology › Haemoglobin")
    row.get_by_role("link", name="Sign again").click()
    expect(page.locator(".signed-content")).to_contain_text("14.0 g/dL")
    expect(page.get_by_label("Username")).to_have_count(0)  # same session: password alone
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign electronically").click()
    expect(row).to_contain_text("signed")
    expect(row.get_by_role("link", name="Sign again")).to_have_count(0)
