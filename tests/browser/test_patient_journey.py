"""One patient of the real IAH-PRRT trial, walked by a site nurse in Chromium from consent
to M6: registration, screening with the eligibility checklist, inclusion, the two 68Ga
PETs with the 5 index lesions, the safety call, the IAH 177Lu administration, the safety
visits, the month-3 and month-6 responses, the end of study.

Dates are counted back from today so that every visit is in the past and inside its
window: D0 (the IAH procedure) 210 days ago, T0 (the 177Lu administration) D0 + 28, M6
(T0 + 180) two days ago. Each form is filled from a dict {field name: value}; field names
are GROUP-KEY-ITEM as on the page (``FormPage.fill``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from ecrf.auth.roles import Role
from forms.iahprrt import STUDY
from tests.browser.conftest import sign_in_page
from tests.iahprrt_patient import AGE, FORMS, birth_month, field_names, screening

pytestmark = pytest.mark.browser

FORM_NAMES = {form.oid: form.name for form in STUDY.forms}


@pytest.fixture
def live_server(trial_live_server):
    return trial_live_server


# --- page objects ---------------------------------------------------------------------------


class SubjectPage:
    """One subject's page: schedule with visit dates, eligibility panel, status form."""

    def __init__(self, page: Page, base_url: str, identifier: str) -> None:
        self.page, self.url, self.identifier = page, f"{base_url}/subjects/{identifier}", identifier

    def open(self) -> SubjectPage:
        """Open the subject's page, unless the last action's answer was that page (a saved
        visit date, a changed status): it is as fresh as a second load would be."""
        if self.page.url != self.url:
            self.page.goto(self.url)
        return self

    def visit(self, visit_oid: str) -> Locator:
        return self.page.locator(f"#visit-{visit_oid}-1")

    def record_visit_date(self, visit_oid: str, day: date) -> None:
        self.open()
        row = self.visit(visit_oid)
        row.locator("summary", has_text="Record date").click()
        row.get_by_label("Visit date").fill(day.isoformat())
        row.get_by_role("button", name="Save date").click()
        expect(self.page.locator(".flash")).to_have_text("Visit date recorded.")
        expect(self.visit(visit_oid).locator('td[data-label="Date done"]')).to_contain_text(
            day.isoformat()
        )

    def open_form(self, visit_oid: str, form_oid: str) -> FormPage:
        self.open()
        name = FORM_NAMES[form_oid]
        self.visit(visit_oid).get_by_role("link", name=f"{name} · ").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(name)
        return FormPage(self.page, name)

    def enter(self, visit_oid: str, form_oid: str, values: dict[str, str]) -> FormPage:
        """Open a form of a visit, fill it and save it complete."""
        form = self.open_form(visit_oid, form_oid)
        form.fill(values)
        form.save()
        return form

    def change_status(self, label: str, reason: str) -> None:
        self.open()
        section = self.page.locator(
            "section", has=self.page.get_by_role("heading", name="Change status")
        )
        section.get_by_label("New status").select_option(label=label)
        section.get_by_label("Reason").fill(reason)
        section.get_by_role("button", name="Change status").click()
        expect(self.page.locator(".flash")).to_have_text(
            f"{self.identifier} is now {label.lower()}."
        )
        expect(self.status).to_have_text(label)

    @property
    def status(self) -> Locator:
        return self.page.get_by_role("heading", level=1).locator(".status")

    @property
    def references(self) -> Locator:
        return self.page.locator("p.muted", has_text="D0:")

    def criterion(self, criterion_id: str) -> Locator:
        return self.page.locator(f'#eligibility tr[data-criterion="{criterion_id}"]')


class FormPage:
    """A form page: fill fields by name (adding rows to repeating groups), save, read the
    derived values with the inputs they were computed from."""

    def __init__(self, page: Page, name: str) -> None:
        self.page, self.name = page, name

    #: The form's select lists, and the rows each repeating group has: read in one round trip
    #: rather than one per field or group.
    LAYOUT = """() => [
        [...document.querySelectorAll("select[name]")].map(e => e.name),
        Object.fromEntries([...document.querySelectorAll("table.rows[data-group]")].map(
            t => [t.dataset.group, t.querySelectorAll("tbody tr[data-row]").length])),
    ]"""

    def fill(self, values: dict[str, str | list[str]]) -> None:
        selects, rows = self.page.evaluate(self.LAYOUT)
        if self._add_rows(values, rows):  # the page was posted and drawn again
            selects, _ = self.page.evaluate(self.LAYOUT)
        selects = set(selects)
        for name, value in values.items():
            if value in ("", None, []):
                continue
            if isinstance(value, list):  # multiple choice: one checkbox per code
                for code in value:
                    self.page.locator(f'input[name="{name}"][value="{code}"]').check()
                continue
            field = self.page.locator(f'[name="{name}"]')
            if name in selects:
                field.select_option(value)
            else:
                field.fill(value)

    def _add_rows(self, values, rows: dict[str, int]) -> bool:
        """Click '+ Add a row' until each repeating group (``rows``: the rows each has) has
        the rows the names use; each click posts the form and adds one row. Whether any was
        added."""
        needed: dict[str, int] = {}
        for name in values:
            group, key, _ = name.split("-", 2)
            needed[group] = max(needed.get(group, 0), int(key))
        added = False
        for group, count in needed.items():
            if group not in rows:
                continue  # a non-repeating group
            table = self.page.locator(f'table.rows[data-group="{group}"]')
            for row in range(rows[group] + 1, count + 1):
                self.page.locator(f'button[value="add_row:{group}"]').click()
                expect(table.locator(f'tr[data-row="{row}"]')).to_be_visible()
                added = True
            expect(table.locator("tbody tr[data-row]")).to_have_count(max(count, rows[group]))
        return added

    def save(self, complete: bool = True) -> None:
        button = "Save and mark complete" if complete else "Save draft"
        self.page.get_by_role("button", name=button).click()
        status = "complete" if complete else "in progress"
        errors = self.page.locator(".form-errors")
        try:
            expect(self.page.locator(".flash")).to_have_text(f"{self.name} saved ({status}).")
        except AssertionError:
            if errors.count():
                raise AssertionError(f"{self.name} refused: {errors.inner_text()}") from None
            raise
        assert errors.count() == 0, f"{self.name} refused: {errors.inner_text()}"

    def derived(self, item_oid: str, group: str | None = None, key: int = 1) -> Locator:
        """The output of a derived item (in row ``key`` of ``group`` when repeating)."""
        scope = (
            self.page.locator(f'table.rows[data-group="{group}"] tr[data-row="{key}"]')
            if group
            else self.page
        )
        return scope.locator(f'.item[data-item="{item_oid}"] output')

    def inputs(self, item_oid: str) -> Locator:
        """The inputs listed under a derived value's "how" (opened)."""
        item = self.page.locator(f'.item[data-item="{item_oid}"]')
        item.locator("summary", has_text="how").click()
        return item.locator(".how li")


def matrix_cells(page: Page, base_url: str, identifier: str) -> Locator:
    page.goto(f"{base_url}/subjects")
    row = page.locator("table.matrix tbody tr", has=page.locator(f"code:text-is('{identifier}')"))
    return row.locator("td a.cell")


# --- the patient's data, dated from D0 ------------------------------------------------------

LESIONS = ("L1", "L2", "L3", "L4", "L5")
# L1 and L2 are the baseline targets (tests/iahprrt_patient.py): the same segments.
SEGMENTS = ("S6", "S7", "S2", "S4", "S8")
# SUVmax, SUVmean of the 5 index lesions after IV, and after IAH injection.
IV_UPTAKE = (
    ("10.00", "6.00"),
    ("8.00", "5.00"),
    ("12.00", "8.00"),
    ("5.00", "3.00"),
    ("20.00", "12.00"),
)
IAH_UPTAKE = (
    ("25.00", "15.00"),
    ("16.00", "10.00"),
    ("36.00", "20.00"),
    ("7.50", "5.00"),
    ("30.00", "18.00"),
)
# Kidney, spleen, healthy liver, bone marrow: (SUVmax, SUVmean).
IV_ORGANS = {
    "KID": ("20.00", "12.00"),
    "SPL": ("25.00", "18.00"),
    "LIV": ("4.00", "2.00"),
    "BM": ("2.00", "1.00"),
}
IAH_ORGANS = {
    "KID": ("18.00", "10.80"),
    "SPL": ("20.00", "14.40"),
    "LIV": ("5.00", "2.50"),
    "BM": ("1.80", "0.90"),
}


def pet(day: date, acquisition: dict[str, str], organs, lesions) -> dict[str, str]:
    """A PET form: the acquisition (activities, times...), the organs' (SUVmax, SUVmean)
    by item prefix, and the 5 index lesions' (SUVmax, SUVmean)."""
    values = {
        "PET-1-PETDAT": day.isoformat(),
        "PET-1-TRACER": "DOTATATE",
        "PET-1-WEIGHT": "70.0",
        "PET-1-SCANNER": "Siemens Biograph Vision 600",
        "PET-1-RECON": "EARL2",
        "PET-1-SUVNORM": "BW",
        "PET-1-SEGMETH": "ISO41",
        "PET-1-LIVREF": "S5",
        "PET-1-READER": "Dr A. Martin",
        **{f"PET-1-{item}": text for item, text in acquisition.items()},
    }
    iah = "ARTERY" in acquisition
    if iah:  # the proper hepatic artery reaches the whole liver
        values["PET-1-LIVPERF"] = "Y"
    for prefix, (suvmax, suvmean) in organs.items():
        values[f"ORG-1-{prefix}SUVMAX"] = suvmax
        values[f"ORG-1-{prefix}SUVMEAN"] = suvmean
    for key, (lesion, segment, (suvmax, suvmean)) in enumerate(
        zip(LESIONS, SEGMENTS, lesions, strict=True), start=1
    ):
        values |= {
            f"IDX-{key}-LESID": lesion,
            f"IDX-{key}-SEGMENT": segment,
            f"IDX-{key}-SUVMAX": suvmax,
            f"IDX-{key}-SUVMEAN": suvmean,
        }
        if iah:
            values[f"IDX-{key}-PERF"] = "Y"
    return values


def review(day: date) -> dict[str, str]:
    return {"AEREV-1-REVDAT": day.isoformat(), "AEREV-1-AEYN": "N", "AEREV-1-CMYN": "N"}


def response(day: date, l1: str, l2: str) -> dict[str, str]:
    return {
        "IMG-1-TRDAT": day.isoformat(),
        "IMG-1-METHOD": "CT",
        "IMG-1-NEWLES": "N",
        "IMG-1-INVRESP": "PR",
        "TL-1-LESID": "L1",
        "TL-1-DIAM": l1,
        "TL-2-LESID": "L2",
        "TL-2-DIAM": l2,
    }


def test_a_site_nurse_walks_one_patient_from_consent_to_m6(
    page: Page, live_server, create_site, create_user, signed_in_page
):
    today = datetime.now(UTC).date()  # the server refuses visit dates after its UTC today
    d0 = today - timedelta(days=210)
    consent = d0 - timedelta(days=28)
    t0 = d0 + timedelta(days=28)
    visit_dates = {
        "SCR": consent + timedelta(days=2),
        "PETIV": d0 - timedelta(days=7),
        "PETIAH": d0,
        "CALL": d0 + timedelta(days=14),
        "THER": t0,
        **{f"W{w}": t0 + timedelta(days=7 * w) for w in (2, 4, 6, 8)},
        "M3": t0 + timedelta(days=90),
        "M6": t0 + timedelta(days=180),
    }
    assert visit_dates["M6"] < today

    create_site("BDX", "CHU de Bordeaux")
    create_user("bnurse", Role.SITE_STAFF, "BDX")
    create_user("binv", Role.INVESTIGATOR, "BDX")
    # The nurse signs in through the sign-in form and lands on the subject matrix.
    sign_in_page(page, live_server.url, "bnurse")

    # --- registration ----------------------------------------------------------------------
    page.get_by_role("button", name="Register a subject").click()
    expect(page.locator(".flash")).to_contain_text("BDX-001 registered (screening)")
    subject = SubjectPage(page, live_server.url, "BDX-001")
    expect(subject.status).to_have_text("Screening")
    expect(subject.references).to_have_text(re.compile(r"D0: not known yet · T0: not known yet"))
    expect(page.locator("#eligibility .page-head .status")).to_have_text(
        "Inclusion not possible: 24 criteria to resolve"
    )

    # Until the consent date is recorded, only screening is open.
    expect(page.locator(".gate-notice")).to_contain_text(
        "Only screening / inclusion can be filled in until the date of signed informed consent"
    )

    # --- screening: consent (D0 planned, therapy sub-group), then every screening form ----
    forms = screening(consent)
    subject.enter("SCR", "IC", field_names(forms["IC"]))
    subject.open()
    expect(subject.references).to_contain_text(f"D0: {d0}")
    expect(subject.references).to_contain_text(f"T0: {t0}")
    scr = subject.visit("SCR")
    due = scr.locator('td[data-label="Due"]')
    expect(due).to_have_text(f"{d0 - timedelta(days=28)} overdue")  # entered after the fact
    expect(scr.locator('td[data-label="Window"]')).to_have_text(
        f"{d0 - timedelta(days=42)} → {d0 - timedelta(days=7)}"
    )
    expect(subject.visit("M6").locator('td[data-label="Due"]')).to_have_text(
        str(t0 + timedelta(days=180))
    )
    subject.record_visit_date("SCR", visit_dates["SCR"])
    expect(due).to_have_text(str(d0 - timedelta(days=28)))

    for form_oid in FORMS[1:]:
        form = subject.enter("SCR", form_oid, field_names(forms[form_oid]))
        if form_oid == "DM":
            expect(form.derived("AGE")).to_have_text(f"{AGE} years")
            expect(form.inputs("AGE")).to_have_text(
                [
                    f"Month and year of birth: {birth_month(consent, AGE)}",
                    f"Date of signed written informed consent (SCR): {consent}",
                ]
            )
        elif form_oid == "VS":
            expect(form.derived("BMI")).to_have_text("22.9 kg/m2")
        elif form_oid == "LBCHEM":
            expect(form.derived("CRCL")).to_have_text("70.0 mL/min")
            expect(form.inputs("CRCL")).to_have_text(
                [
                    f"Age at consent (SCR): {AGE} years",
                    # the weight of this visit, or the latest weighed before it
                    "Weight (Vital signs, this visit or the latest before it): 70.0 kg",
                    "Sex (SCR): Male",
                    # 1.00 mg/dL entered, read by the rule in the standard unit
                    "Creatinine: 88.42 µmol/L",
                ]
            )
            expect(form.derived("ALTXULN")).to_have_text("0.75 × ULN")
        elif form_oid == "HEPAT":
            expect(form.derived("CPSCORE")).to_have_text("5 points")
            expect(form.derived("CPCLASS")).to_have_text("A5")
        elif form_oid == "IE":
            expect(form.derived("ELIGIBLE")).to_have_text("Yes")

    # --- eligibility: all 24 satisfied, with the evidence; inclusion ----------------------
    subject.open()
    expect(page.locator("#eligibility .page-head .status")).to_have_text(
        "All criteria satisfied: inclusion possible"
    )
    expect(page.locator("#eligibility tbody tr.criterion-satisfied")).to_have_count(24)
    clearance = subject.criterion("INC06")
    expect(clearance.locator("td").nth(2)).to_contain_text("met")
    expect(clearance.locator("td").nth(3)).to_have_text(
        "Creatinine clearance (Cockcroft-Gault) (SCR): 70.0 mL/min"
    )
    expect(clearance.locator("td").nth(4)).to_have_text("satisfied")
    expect(subject.criterion("EXC03").locator("td").nth(3)).to_have_text("LVEF (SCR): 62 %")
    # The nurse prepared the data; the inclusion is the investigator's decision.
    expect(page.locator(".investigator-decision")).to_contain_text(
        "Inclusion, screen failure and withdrawal are the investigator's decisions."
    )
    SubjectPage(signed_in_page("binv"), live_server.url, "BDX-001").change_status(
        "Included", "All 24 eligibility criteria met"
    )

    cells = matrix_cells(page, live_server.url, "BDX-001")
    # Data entered after the fact: the visits whose window has passed show as overdue.
    expect(cells).to_have_text(["complete", *["overdue"] * 9, "not started", "not started"])

    # --- PET after IV injection --------------------------------------------------------------
    subject.record_visit_date("PETIV", visit_dates["PETIV"])
    # A man: no pregnancy test (the code list's "not applicable"), contraception recorded.
    no_pregnancy_test = {
        "PREG-1-PREGPRE": "NA",
        "PREG-1-CONTRA": "Y",
        "PREG-1-CONTRAMETH": "CONDOM",
    }
    subject.enter("PETIV", "PREG", no_pregnancy_test)
    iv_acquisition = {
        "ACTSYR": "180.0",
        "ACTSYRTM": "09:50",
        "INJTIM": "10:00",
        "ACTRES": "5.0",
        "ACTRESTM": "10:05",
        "ACQTIM": "11:00",
    }
    form = subject.enter(
        "PETIV", "PETIV", pet(visit_dates["PETIV"], iv_acquisition, IV_ORGANS, IV_UPTAKE)
    )
    expect(form.derived("INJACT")).to_have_text("157.2 MBq")
    expect(form.derived("UPTKMIN")).to_have_text("60 min")
    expect(form.derived("TLR", "IDX", 1)).to_have_text("5.00")  # 10.00 / liver 2.00

    # --- D0: arteriography and PET after IAH injection: the IAH/IV ratios --------------------
    subject.record_visit_date("PETIAH", d0)
    subject.enter("PETIAH", "PREG", no_pregnancy_test)
    subject.enter(
        "PETIAH",
        "ANGIO",
        {
            "ANGIO-1-PRDAT": d0.isoformat(),
            "ANGIO-1-ACCESS": "FEMORAL",
            "ANGIO-1-ANATOMY": "STANDARD",
            "ANGIO-1-CATHPOS": "PHA",
            "ANGIO-1-EMBOL": "N",
            "ANGIO-1-EXTRAFLOW": "N",
            "ANGIO-1-COMPL": "N",
        },
    )
    iah_acquisition = {
        "ACTSYR": "150.0",
        "ACTSYRTM": "10:20",
        "INJTIM": "10:30",
        "ARTERY": "PHA",
        "INJDUR": "2",
        "ACQTIM": "11:30",
    }
    form = subject.enter("PETIAH", "PETIAH", pet(d0, iah_acquisition, IAH_ORGANS, IAH_UPTAKE))
    expect(form.derived("INJACT")).to_have_text("135.4 MBq")
    for key, (gain, tl_gain) in enumerate(
        [("2.50", "2.00"), ("2.00", "1.60"), ("3.00", "2.40"), ("1.50", "1.20"), ("1.50", "1.20")],
        start=1,
    ):
        expect(form.derived("GSUVMAX", "IDX", key)).to_have_text(gain)
        expect(form.derived("GTLR", "IDX", key)).to_have_text(tl_gain)
    expect(form.derived("GSUVMEAN", "IDX", 4)).to_have_text("1.67")  # 5.00 / 3.00
    expect(form.derived("KIDGMAX")).to_have_text("0.90")
    expect(form.derived("LIVGMEAN")).to_have_text("1.25")
    expect(form.derived("NPAIRED")).to_have_text("5")
    expect(form.derived("MEDGAIN")).to_have_text("2.00")
    lesions = "Liver index lesions (the 5 metastases of the primary endpoint)"
    expect(form.inputs("MEDGAIN")).to_have_text(
        [
            f"{FORM_NAMES['PETIAH']}: {lesions} (PETIAH): 5 row(s)",
            f"{FORM_NAMES['PETIV']}: {lesions} (PETIV): 5 row(s)",
        ]
    )
    subject.open()
    expect(subject.references).to_contain_text(f"D0: {d0}")

    # --- the safety call ---------------------------------------------------------------------
    subject.record_visit_date("CALL", visit_dates["CALL"])
    subject.enter(
        "CALL",
        "CALL",
        {
            "CALL-1-CALLDAT": visit_dates["CALL"].isoformat(),
            "CALL-1-CALLMODE": "PHONE",
            "CALL-1-AEYN": "N",
            "CALL-1-CMYN": "N",
        },
    )

    # --- T0: the IAH administration of 177Lu-dotatate ---------------------------------------
    subject.record_visit_date("THER", t0)
    form = subject.enter(
        "THER",
        "LUADM",
        {
            "ADM-1-EXSTDAT": t0.isoformat(),
            "ADM-1-EXSTTIM": "10:00",
            "ADM-1-EXENTIM": "10:30",
            "ADM-1-ACCESS": "FEMORAL",
            "ADM-1-ARTERY": "PHA",
            "ADM-1-SAMEPOS": "Y",
            "ADM-1-PRESACT": "7400",
            "ADM-1-ACTSYR": "7600",
            "ADM-1-ACTSYRTM": "09:00",
            "ADM-1-ACTRES": "150",
            "ADM-1-ACTRESTM": "10:45",
            "RP-1-RPYN": "Y",
            "RP-1-RPSOL": "LYSARG",
            "RP-1-RPVOL": "1000",
            "RP-1-RPSTTIM": "09:15",
            "RP-1-ANTIEM": "Y",
            "SAFE-1-PREGPRE": "NA",  # a man: the code list's "not applicable"
            "SAFE-1-CONTRA": "Y",
            "SAFE-1-CONTRAMETH": "CONDOM",
            "SAFE-1-PRCOMP": "N",
        },
    )
    expect(form.derived("INFDUR")).to_have_text("30 min")
    expect(form.derived("ADMACT")).to_have_text("7416.6 MBq")
    expect(form.derived("ADMDEV")).to_have_text("0.2 %")
    expect(form.inputs("ADMDEV")).to_have_text(
        [
            "Administered activity (decay-corrected to the start): 7416.6 MBq",
            "Prescribed activity: 7400 MBq",
        ]
    )
    expect(page.get_by_label("Pregnancy test before the administration")).to_have_value("NA")
    subject.open()
    expect(subject.references).to_contain_text(f"T0: {t0}")
    subject.change_status("In follow-up", "5th cycle given by IAH infusion")

    # --- safety follow-up: W2 … W8 ------------------------------------------------------------
    for week in ("W2", "W4", "W6", "W8"):
        subject.record_visit_date(week, visit_dates[week])
        subject.enter(week, "AEREV", review(visit_dates[week]))
    form = subject.enter(
        "W2",
        "VS",
        {
            "VS-1-VSDAT": visit_dates["W2"].isoformat(),
            "VS-1-WEIGHT": "69.0",
            "VS-1-SYSBP": "125",
            "VS-1-DIABP": "78",
        },
    )
    expect(form.derived("BMI")).to_have_text("22.5 kg/m2")  # with the screening height
    expect(form.inputs("BMI")).to_have_text(
        ["Weight: 69.0 kg", "Height: —", "Height (SCR): 175 cm"]
    )

    # --- M3 and M6: RECIST 1.1 response ------------------------------------------------------
    subject.record_visit_date("M3", visit_dates["M3"])
    subject.enter("M3", "AEREV", review(visit_dates["M3"]))
    form = subject.enter("M3", "TRM3", response(visit_dates["M3"], "20", "15"))
    expect(form.derived("SUMDIAM")).to_have_text("35 mm")
    expect(form.derived("NADIR")).to_have_text("57 mm")  # the baseline: 35 + 22
    expect(form.derived("PCHBL")).to_have_text("-38.6 %")
    expect(form.derived("NTRGRESP")).to_have_text("No non-target lesion at baseline")
    expect(form.derived("OVRLRESP")).to_have_text("Partial response")

    subject.record_visit_date("M6", visit_dates["M6"])
    subject.enter("M6", "AEREV", review(visit_dates["M6"]))
    form = subject.enter("M6", "TRM6", response(visit_dates["M6"], "18", "14"))
    expect(form.derived("SUMDIAM")).to_have_text("32 mm")
    expect(form.derived("NADIR")).to_have_text("35 mm")  # month 3
    expect(form.derived("PCHNAD")).to_have_text("-8.6 %")
    expect(form.derived("PCHBL")).to_have_text("-43.9 %")
    expect(form.derived("OVRLRESP")).to_have_text("Partial response")

    # --- end of study --------------------------------------------------------------------------
    subject.enter(
        "LOGS",
        "EOS",
        {
            "EOS-1-EOSDAT": visit_dates["M6"].isoformat(),
            "EOS-1-EOSSTAT": "COMPLETED",
            "EOS-1-LASTCONT": visit_dates["M6"].isoformat(),
        },
    )
    subject.open()
    expect(page.locator("section.findings")).to_have_count(0)  # no open finding anywhere
    schedule = page.locator("table.schedule")
    expect(schedule.locator(".status-bad")).to_have_count(0)  # nothing overdue or out of window
    for visit_oid, day in visit_dates.items():
        expect(subject.visit(visit_oid).locator('td[data-label="Date done"]')).to_contain_text(
            day.isoformat()
        )
    subject.change_status("Completed", "M6 done: end of study as planned")
    expect(page.get_by_role("heading", name="Change status")).to_have_count(0)

    cells = matrix_cells(page, live_server.url, "BDX-001")
    expect(cells).to_have_text(
        [
            "complete",  # SCR
            "complete",  # PETIV
            "complete",  # PETIAH: arteriography and PET
            "complete",  # CALL
            "1/7 complete",  # THER: the administration (labs and imaging forms not used)
            "2/4 complete",  # W2: vital signs and review
            "1/4 complete",
            "1/4 complete",
            "1/4 complete",
            "2/6 complete",  # M3: review and response
            "2/6 complete",  # M6
            "1/7 complete",  # LOGS: end of study (of 7 logs with the cold SSA injections)
        ]
    )
    expect(
        page.locator("table.matrix tbody tr", has=page.locator("code:text-is('BDX-001')"))
        .locator("td")
        .first
    ).to_have_text("Completed")
