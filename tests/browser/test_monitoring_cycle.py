"""The whole monitoring cycle in Chromium, each person in a browser of their own at 1366×768:

1. the site nurse saves a grade 3 haemoglobin with no adverse event: the form warns and an
   automatic query opens;
2. the nurse answers it in its thread; the monitor closes it;
3. the monitor verifies the form; the investigator signs the visit;
4. the nurse corrects a verified, signed value: the verification is withdrawn on the form,
   the signature no longer valid on the subject page, saying why;
5. the data manager locks the form: the nurse's next edit is refused with the lock's message;
6. the dashboards and the monitor's visit preparation show each step, the lock included;
7. the data manager reads every step in the audit trail, and the trail's chain is intact.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ecrf.auth.roles import Role
from ecrf.integrity import verify_trail
from tests.browser.conftest import sign_in_by_cookie
from tests.browser_fixtures import LiveServer
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCREEN = {"width": 1366, "height": 768}
SCREENSHOTS = Path("test-artifacts") / "screenshots"
SUBJECT = "BDX-001"
SUBJECT_PAGE = f"/subjects/{SUBJECT}"
LABS = f"{SUBJECT_PAGE}/visits/SCR/1/forms/LB"
WARNING = "Haemoglobin below 8 g/dL (grade 3): record an anaemia adverse event."


@pytest.fixture
def live_server(make_app):
    app = make_app(
        WTF_CSRF_ENABLED=True,
        TESTING=False,
        STUDY_DEFINITION="tests.definitions.monitored:STUDY",
    )
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def clinic(create_site, create_user, create_subject, rename_user):
    """A subject screened at Bordeaux (consent and demographics complete), the four people
    of the cycle, and a second site so that the data manager's dashboard is the study's."""
    create_site("BDX", "CHU de Bordeaux")
    create_site("TLS", "CHU de Toulouse")
    create_subject(
        "BDX",
        {
            ("SCR", "ENR"): {("ENR", 1): {"ENRDAT": "2024-05-01"}},
            ("SCR", "DM"): {("DM", 1): {"BRTHYM": "1960-03", "SEX": "F", "PREG": "N"}},
        },
        complete=True,
    )
    rename_user(create_user("nurse", Role.SITE_STAFF, "BDX"), "Claire Martin")
    rename_user(create_user("doc", Role.INVESTIGATOR, "BDX"), "Dr Louise Dupont")
    rename_user(create_user("monitor", Role.MONITOR, "BDX"), "Paul Leroy")
    rename_user(create_user("datamgr", Role.DATA_MANAGER), "Anne Morel")


class Person:
    """One person at their own browser: a page in its own context, signed in."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def save(self, button: str = "Save draft", reason: str | None = None) -> None:
        if reason is not None:
            self.page.get_by_label("Reason for change").fill(reason)
        self.page.get_by_role("button", name=button).click()

    def query_figures(self, path: str):
        """The site's row of the dashboard's "Open queries by age": the site, the four age
        bands, then "Waiting on the site" and "Answered"."""
        self.open(path)
        return self.page.locator("section#queries tbody tr", has_text="BDX").locator("td")


@pytest.fixture
def people(live_server, clinic, new_context):
    def person(username: str) -> Person:
        context = new_context(viewport=SCREEN)
        other = context.new_page()
        sign_in_by_cookie(other, live_server, username)
        return Person(other, live_server.url)

    return {name: person(name) for name in ("nurse", "doc", "monitor", "datamgr")}


def test_the_whole_monitoring_cycle(live_server, app, people):
    nurse, doc, monitor, manager = (people[n] for n in ("nurse", "doc", "monitor", "datamgr"))

    # 1. Bad data: a grade 3 haemoglobin, no anaemia adverse event. The form warns, and an
    #    automatic query opens on the haemoglobin.
    form = nurse.open(LABS)
    form.locator("#LB-1-LBDAT").fill("2024-05-02")
    form.locator("#LB-1-HGB").fill("7.5")
    nurse.save("Save and mark complete")
    expect(form.locator(".flash").first).to_contain_text("saved")
    form = nurse.open(LABS)
    expect(form.locator("[data-item=HGB]")).to_contain_text(WARNING)
    queries = form.locator(".form-queries")
    expect(queries).to_contain_text("Queries not closed (1)")
    expect(queries.locator(".status")).to_have_text("Open")
    expect(
        queries.get_by_role("link", name="Screening › Haematology › Haemoglobin")
    ).to_be_visible()

    listing = monitor.open("/queries")
    expect(listing.locator("main")).to_contain_text("Open: 1")
    expect(listing.locator("main")).to_contain_text(SUBJECT)
    figures = manager.query_figures("/dashboard")
    expect(figures.nth(0)).to_have_text("1")  # opened 7 days ago or less
    expect(figures.nth(4)).to_have_text("1")  # waiting on the site
    expect(figures.nth(5)).to_have_text("0")  # answered

    # 2. The nurse answers in the thread; the monitor closes the query.
    queries.get_by_role("link", name="Screening › Haematology › Haemoglobin").click()
    thread = nurse.page
    expect(thread.locator(".page-head")).to_contain_text("Haemoglobin")
    expect(thread.locator("main")).to_contain_text("Opened automatically by the edit check")
    thread.get_by_label("Answer").fill("Confirmed on the lab report; the anaemia AE follows.")
    thread.get_by_role("button", name="Send the answer").click()
    expect(thread.locator(".page-head .status")).to_have_text("Answered")
    query_url = thread.url
    figures = monitor.query_figures("/sites/BDX/dashboard")
    expect(figures.nth(4)).to_have_text("0")
    expect(figures.nth(5)).to_have_text("1")

    monitor.page.goto(query_url)
    expect(monitor.page.locator("main")).to_contain_text("Claire Martin answered")
    monitor.page.get_by_label("Closing note (optional)").fill("Agreed with the source.")
    monitor.page.get_by_role("button", name="Close the query").click()
    expect(monitor.page.locator(".page-head .status")).to_have_text("Closed")
    expect(monitor.open("/queries").locator("main")).to_contain_text("Closed: 1")

    # 3. The monitor verifies the form; the investigator signs the visit.
    form = monitor.open(LABS)
    form.locator("#sdv").get_by_role("button", name="Verify the whole form").click()
    expect(form.locator("#sdv .status")).to_have_text("Verified")

    subject = doc.open(SUBJECT_PAGE)
    row = subject.locator("#signatures tr[data-scope=visit-SCR-1]")
    row.get_by_role("link", name="Sign").click()
    expect(subject.locator(".signed-content")).to_contain_text("7.5 g/dL")
    subject.get_by_label("Username").fill("doc")
    subject.get_by_label("Password").fill(PASSWORD)
    subject.get_by_role("button", name="Sign electronically").click()
    expect(row).to_contain_text("signed")
    expect(row).to_contain_text("Dr Louise Dupont (investigator)")

    # 4. The nurse corrects the verified, signed sample date, giving the reason.
    form = nurse.open(LABS)
    expect(form.locator("[data-item=LBDAT] .sdv-verified")).to_be_visible()
    form.locator("#LB-1-LBDAT").fill("2024-05-03")
    nurse.save("Save changes", reason="Transcription error: sampled on 3 May")
    expect(form.locator(".flash").first).to_contain_text("saved")
    lbdat = form.locator("[data-item=LBDAT]")
    expect(lbdat.locator(".sdv-withdrawn")).to_contain_text("verification withdrawn")
    subject = nurse.open(SUBJECT_PAGE)
    row = subject.locator("#signatures tr[data-scope=visit-SCR-1]")
    expect(row).to_contain_text("no longer valid")
    expect(row.locator(".why-invalid")).to_contain_text("Data changed after signing")
    expect(row.locator(".why-invalid")).to_contain_text("Sample date")

    # 5. The data manager locks the form; the nurse's next edit is refused at the form.
    form = nurse.open(LABS)
    form.locator("#LB-1-HGB").fill("7.6")
    locked = manager.open(LABS)
    locked.get_by_role("link", name="Lock this form…").click()
    locked.get_by_label("Reason (optional)").fill("Cleaned for the interim analysis")
    locked.get_by_role("button", name="Lock", exact=True).click()
    expect(locked.locator(".lock-notice")).to_contain_text("Locked: this form was locked by")
    nurse.save("Save changes", reason="Lab report re-read")
    expect(form.locator(".form-errors")).to_contain_text(
        re.compile(
            r"This form is locked: Haematology of visit Screening of BDX-001 was locked by "
            r"Anne Morel on \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Nothing was saved"
        )
    )
    matrix = nurse.open("/subjects")
    expect(matrix.locator('a[href$="#visit-SCR-1"] .lock-flag')).to_have_text("locked")

    # 6. The dashboards: the study's for the data manager, the site's and the visit
    #    preparation for the monitor.
    board = manager.open("/dashboard")

    def figure(heading: str):
        return board.locator(f"table.dashboard-sites tr[data-figure='{heading}'] td[data-site=BDX]")

    expect(figure("Open queries")).to_have_text("0")  # closed
    expect(figure("Withdrawn by a change")).to_have_text("1")
    expect(figure("Invalidated, not signed again")).to_have_text("1")
    signatures = board.locator("section#signatures")
    expect(signatures.locator("tbody tr", has_text=SUBJECT)).to_contain_text(
        "invalidated by a later change"
    )
    verification = board.locator("section#verification")
    expect(
        verification.locator("tbody tr", has_text=SUBJECT).locator("[data-label=Withdrawn]")
    ).to_have_text("1")
    expect(figure("Forms locked")).to_have_text("1")
    locks = board.locator("section#locks")
    expect(locks).to_contain_text("Forms locked: 1")
    expect(locks.locator("tbody tr", has_text=SUBJECT)).to_contain_text("Form")
    board.screenshot(path=SCREENSHOTS / "cycle-study-dashboard.png", full_page=True)

    site = monitor.open("/sites/BDX/dashboard")
    expect(site.locator("section#verification")).to_contain_text("Withdrawn by a change: 1")
    expect(site.locator("section#signatures")).to_contain_text("Invalidated, not signed again: 1")
    site.get_by_role("link", name="Visit preparation").click()
    expect(site.locator("main")).to_contain_text("No query waiting.")
    to_verify = site.locator("section", has_text="Forms to verify")
    expect(to_verify.locator("tbody tr", has_text=SUBJECT)).to_contain_text("1 withdrawn")
    site.screenshot(path=SCREENSHOTS / "cycle-visit-prep.png", full_page=True)

    subject = doc.open(SUBJECT_PAGE)
    # The finding stays open (the value is still grade 3), named as the user reads it.
    expect(subject.locator("section.findings").first).to_contain_text(
        f"HGB_GRADE3_AE Screening › Haematology › Haemoglobin: {WARNING}"
    )
    subject.screenshot(path=SCREENSHOTS / "cycle-subject.png", full_page=True)

    # 7. Every step is in the data manager's audit trail of the subject.
    trail = manager.open("/audit")
    trail.get_by_label("Subject").fill(SUBJECT)
    trail.get_by_role("button", name="Filter").click()
    events = trail.locator("table.review-table tbody")
    for action in (
        "query opened",
        "query answered",
        "query closed",
        "source verified",
        "verification withdrawn",
        "signature signed",
        "signature invalidated",
        "data locked",
        "item changed",
    ):
        expect(events).to_contain_text(action)
    expect(events.locator("tr", has_text="item changed")).to_contain_text(
        "Sample date 2024-05-02 → 2024-05-03 Transcription error: sampled on 3 May"
    )
    # A signature's content hash wraps in its cell: the table fits, nothing hides past it.
    table = trail.locator(".table-wrap").first
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
    trail.screenshot(path=SCREENSHOTS / "cycle-audit.png", full_page=True)

    with app.app_context():
        result = verify_trail()
        assert result.intact, result
