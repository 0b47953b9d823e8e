"""The adverse event log as a research nurse reads it in Chromium: one line per event (its
number, CTCAE term, grade, dates, seriousness, relationships, outcome), the event's fields
in a panel that opens below its line; on a 1366×768 laptop and a 390 px phone without
sideways scrolling. A grade the term lacks is refused at that event's grade field."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import subjects
from tests.iahprrt_patient import save_screening

pytestmark = pytest.mark.browser

CONSENT = date(2025, 1, 6)
EVENTS = (
    ("Nausea after the cycle", "10028813", "2", "2025-02-03", "2025-02-05"),
    ("Hair thinning", "10001760", "1", "2025-02-20", None),
    ("Thrombocytopenia", "10035528", "3", "2025-03-10", "2025-03-24"),
)


@pytest.fixture
def live_server(trial_live_server):
    return trial_live_server


@pytest.fixture
def log_url(live_server, app, page: Page, create_site, create_user, sign_in, seed_once):
    def seed() -> str:
        create_site("BDX", "CHU de Bordeaux")
        create_user("bnurse", Role.SITE_STAFF, "BDX")
        with app.app_context():
            nurse = db.session.scalar(db.select(User).where(User.username == "bnurse"))
            subject = subjects.register_subject(get_site("BDX"), actor=nurse)
            db.session.commit()
            study = current_study()
            save_screening(study, subject, nurse, CONSENT, forms=("IC",))
            rows = {}
            for key, (term, code, grade, start, end) in enumerate(EVENTS, start=1):
                rows[("AE", key)] = {
                    "AESPID": str(key),
                    "AETERM": term,
                    "AELLTCD": code,
                    "AESTDAT": start,
                    "AEONGO": "N" if end else "Y",
                    "AEENDAT": end,
                    "AETOXGR": grade,
                    "AESER": "N",
                    "AERELPR": "NOT",
                    "AEREL": "PROBABLE",
                    "AECONTRT": "N",
                    "AEOUT": "RECOVERED" if end else "NOTRECOVERED",
                }
            services.save_form(study, subject, "LOGS", "AE", rows, actor=nurse, expected_version=0)
            db.session.commit()
            return subject.identifier

    identifier = seed_once(app, "log", seed)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in("bnurse")
    return f"{live_server.url}/subjects/{identifier}/visits/LOGS/1/forms/AE"


def _no_sideways_scroll(page: Page) -> None:
    page.wait_for_load_state("load")  # widths are read with the stylesheets applied
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_one_line_per_event_and_its_fields_below_it(page: Page, log_url, tmp_path):
    page.goto(log_url)
    rows = page.locator("details.row-panel")
    expect(rows).to_have_count(3)
    for index in range(3):
        expect(rows.nth(index)).not_to_have_attribute("open", "")
    third = rows.nth(2).locator("> summary")
    expect(third).to_contain_text("Platelet count decreased")
    expect(third).to_contain_text("Grade 3")
    expect(third).to_contain_text("2025-03-10")
    expect(third).to_contain_text("Probably related")
    # The end column: the date an event ended, "Ongoing" for one that has not.
    expect(rows.nth(0).locator("> summary [data-label='End']")).to_have_text("2025-02-05")
    expect(rows.nth(1).locator("> summary [data-label='End']")).to_have_text("Ongoing")
    expect(page.locator("[name='AE-3-AETOXGR']")).to_be_hidden()
    _no_sideways_scroll(page)
    page.screenshot(path=tmp_path / "ae-log-laptop.png", full_page=True)

    third.click()
    expect(page.locator("[name='AE-3-AETOXGR']")).to_be_visible()
    expect(page.locator("[name='AE-3-AELLTCD'] optgroup[label='Investigations']")).to_have_count(1)
    # The end date is asked only once the event is over, in its own row.
    expect(page.locator("[data-item='AEENDAT']").nth(2)).to_be_visible()
    page.select_option("[name='AE-3-AEONGO']", "Y")
    expect(page.locator("#row-AE-3 [data-item='AEENDAT']")).to_be_hidden()
    _no_sideways_scroll(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(log_url)
    expect(page.locator("details.row-panel")).to_have_count(3)
    _no_sideways_scroll(page)
    page.screenshot(path=tmp_path / "ae-log-phone.png", full_page=True)


def test_a_grade_the_term_lacks_is_refused_at_that_events_grade(page: Page, log_url):
    page.goto(log_url)
    page.get_by_role("button", name="+ Add a row").click()
    new = page.locator("#row-AE-4")
    expect(new).to_have_attribute("open", "")  # a new event opens to be filled
    page.fill("[name='AE-4-AESPID']", "4")
    page.fill("[name='AE-4-AETERM']", "Hair loss")
    # The grade chosen first, then a term without it: the page keeps the grade shown, the
    # server refuses it.
    page.select_option("[name='AE-4-AETOXGR']", "3")
    page.select_option("[name='AE-4-AELLTCD']", "10001760")  # Alopecia: grades 1 and 2
    page.fill("[name='AE-4-AESTDAT']", "2025-04-01")
    page.select_option("[name='AE-4-AEONGO']", "Y")
    page.get_by_role("button", name="Save draft").click()

    expect(page.locator(".form-errors")).to_contain_text("Nothing was saved")
    message = page.locator("p.error[data-for='AE-4-AETOXGR']")
    expect(message).to_contain_text("Alopecia has grades 1 to 2, not grade 3")
    expect(message).to_be_visible()  # its event's panel is open at the refusal
    expect(page.locator("#row-AE-1")).not_to_have_attribute("open", "")
    expect(page.locator("#row-AE-4 summary .mark-error")).to_be_visible()


def _offered(page: Page, name: str) -> list[str]:
    return page.locator(f"[name='{name}'] option:not([disabled])").evaluate_all(
        "options => options.map(o => o.value).filter(v => /^[0-9]$/.test(v))"
    )


def test_the_grade_offers_only_the_grades_of_the_chosen_term(page: Page, log_url):
    page.goto(log_url)
    page.locator("#row-AE-3 > summary").click()
    # Platelet count decreased: grades 1 to 4
    assert _offered(page, "AE-3-AETOXGR") == ["1", "2", "3", "4"]
    page.select_option("[name='AE-3-AELLTCD']", "10001760")  # Alopecia: grades 1 and 2
    # grade 3, already chosen, stays shown (the server's message will speak of it)
    assert _offered(page, "AE-3-AETOXGR") == ["1", "2", "3"]
    page.select_option("[name='AE-3-AETOXGR']", "2")
    assert _offered(page, "AE-3-AETOXGR") == ["1", "2"]
    page.select_option("[name='AE-3-AELLTCD']", "10040047")  # Sepsis: grades 3 to 5
    assert _offered(page, "AE-3-AETOXGR") == ["2", "3", "4", "5"]
    # the other events keep their own terms' grades
    assert _offered(page, "AE-1-AETOXGR") == ["1", "2", "3"]  # Nausea
