"""What a research nurse sees of the gates in Chromium: before consent the subject page
says only screening is open; after withdrawal it says no visit can start and why, and the
status is left to the investigator."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import SubjectStatus
from ecrf.records.sites import get_site
from ecrf.study import subjects
from tests.iahprrt_patient import save_screening

pytestmark = pytest.mark.browser

CONSENT = date(2025, 1, 6)


@pytest.fixture
def live_server(trial_live_server):
    return trial_live_server


@pytest.fixture
def nurse_page(page: Page, live_server, create_site, create_user, sign_in):
    create_site("BDX", "CHU de Bordeaux")
    create_user("bnurse", Role.SITE_STAFF, "BDX")
    create_user("binv", Role.INVESTIGATOR, "BDX")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in("bnurse")
    return page


def register(app, *, withdrawn: bool = False) -> str:
    with app.app_context():
        nurse = db.session.scalar(db.select(User).where(User.username == "bnurse"))
        investigator = db.session.scalar(db.select(User).where(User.username == "binv"))
        subject = subjects.register_subject(get_site("BDX"), actor=nurse)
        db.session.commit()
        if withdrawn:
            save_screening(current_study(), subject, nurse, CONSENT)
            for status in (SubjectStatus.INCLUDED, SubjectStatus.WITHDRAWN):
                subjects.change_status(
                    current_study(), subject, status, actor=investigator, reason="Consent withdrawn"
                )
            db.session.commit()
        return subject.identifier


def test_before_consent_the_nurse_sees_what_is_open(nurse_page, app, live_server, tmp_path):
    identifier = register(app)
    nurse_page.goto(f"{live_server.url}/subjects/{identifier}")

    notice = nurse_page.locator(".gate-notice")
    expect(notice).to_be_visible()
    expect(notice).to_have_text(
        "Only screening / inclusion can be filled in until the date of signed informed consent"
        " is recorded on the informed consent and study part form."
    )
    petiv = nurse_page.locator("#visit-PETIV-1")
    expect(petiv.locator(".after-consent")).to_have_text("opens once consent is recorded")
    expect(petiv.get_by_text("Record date")).to_have_count(0)
    expect(nurse_page.get_by_text("Add an unscheduled visit")).to_have_count(0)
    nurse_page.screenshot(path=tmp_path / "before-consent.png", full_page=False)


def test_after_withdrawal_the_nurse_sees_why_nothing_new_starts(
    nurse_page, app, live_server, tmp_path
):
    identifier = register(app, withdrawn=True)
    nurse_page.goto(f"{live_server.url}/subjects/{identifier}")

    expect(nurse_page.get_by_role("heading", level=1).locator(".status")).to_have_text("Withdrawn")
    expect(nurse_page.locator(".status-reason")).to_have_text(
        "Reason for the status: Consent withdrawn"
    )
    expect(nurse_page.locator(".gate-notice")).to_have_text(
        "BDX-001 has left the study (withdrawn): no new visit can be started, and every change"
        " to a form already filled in needs its reason (kept in the audit trail). The"
        " documentation of the end stays open: End of study / withdrawal, Death."
    )
    nurse_page.screenshot(path=tmp_path / "after-withdrawal.png", full_page=False)

    # A first date for a visit never started is refused at the field, nothing recorded.
    petiv = nurse_page.locator("#visit-PETIV-1")
    petiv.get_by_text("Record date").click()
    petiv.get_by_label("Visit date").fill("2025-02-01")
    petiv.get_by_role("button", name="Save date").click()
    expect(nurse_page.locator("#visit-PETIV-1")).to_contain_text(
        "BDX-001 has left the study (withdrawn): no new visit can be started."
    )
    nurse_page.screenshot(path=tmp_path / "after-withdrawal-date.png", full_page=False)
