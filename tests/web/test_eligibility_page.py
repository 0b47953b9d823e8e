"""The subject page of the real IAH-PRRT trial: the eligibility panel with each criterion's
state and evidence, and the status form that refuses inclusion, at its field, until every
criterion is satisfied."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services, visits
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Site, SubjectStatus
from ecrf.study import subjects
from forms.iahprrt.eligibility import CRITERIA
from tests.capture import entry_of
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)
REFUSAL = "Inclusion is not possible while eligibility criteria are not all satisfied: "


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def patient(app, client, auth, create_site, create_user):
    """Register BDX-001 and enter its screening forms (with ``changes``); sign in as the
    site's nurse (the site's investigator is ``binv``). Returns the subject's identifier."""
    create_site("BDX")
    nurse_id = create_user("bnurse", Role.SITE_STAFF, "BDX")
    create_user("binv", Role.INVESTIGATOR, "BDX")
    auth.login("bnurse")

    def make(changes=None, *, screened: bool = True) -> str:
        with app.app_context():
            site = db.session.query(Site).filter_by(code="BDX").one()
            nurse = db.session.get(User, nurse_id)
            subject = subjects.register_subject(site, actor=nurse)
            db.session.commit()
            if screened:
                save_screening(current_study(), subject, nurse, CONSENT, changes)
            return subject.identifier

    return make


def criteria_rows(page: str) -> dict[str, dict[str, str]]:
    """The eligibility table: criterion id → its state class and cells as plain text."""
    rows = {}
    pattern = r'<tr class="criterion-(\w+)" data-criterion="(\w+)">(.*?)</tr>'
    for state, criterion, body in re.findall(pattern, page, re.S):
        cells = [_text(cell) for cell in re.findall(r"<td>(.*?)</td>", body, re.S)]
        rows[criterion] = dict(
            zip(
                ("state", "text", "answer", "computed", "evidence", "badge"),
                [state, *cells],
                strict=True,
            )
        )
    return rows


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def status_error(page: str) -> str | None:
    found = re.search(r'<p id="status-status-error" class="error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else None


def as_investigator(auth) -> None:
    """Inclusion, screen failure and withdrawal are the investigator's decisions."""
    auth.logout()
    assert auth.login("binv").status_code == 302


def post_status(client, identifier: str, status: str, reason: str = "Eligible"):
    return client.post(
        f"/subjects/{identifier}/status",
        data={"status-status": status, "status-reason": reason},
    )


def test_the_panel_shows_every_criterion_with_its_state_and_evidence(client, patient):
    identifier = patient({"LVEF": {"LVEF": "39"}, "LBCHEM": {"ALB": "2.9"}, "IE": {"INC12": "UNK"}})

    page = client.get(f"/subjects/{identifier}").get_data(as_text=True)

    assert 'id="eligibility"' in page
    assert "Inclusion not possible: 2 criteria to resolve" in page
    rows = criteria_rows(page)
    assert list(rows) == [c.id for c in CRITERIA]
    assert {c: r["state"] for c, r in rows.items() if r["state"] != "satisfied"} == {
        "INC12": "unanswered",
        "EXC03": "contradiction",
    }
    lvef = rows["EXC03"]
    assert lvef["text"] == "EXC03 Carcinoid heart disease (LVEF < 40%)."
    assert (lvef["answer"], lvef["badge"]) == ("No", "contradicts the data")
    assert lvef["computed"] == (
        "met Rule: Screening LVEF < 40 %. Question EXC03: the data say this criterion is met"
        " (Screening LVEF < 40 %), but the checklist answers no. Which is right? Please"
        " correct the data or the answer."
    )
    assert lvef["evidence"] == "LVEF (SCR): 39 %"
    assert (rows["INC12"]["answer"], rows["INC12"]["computed"], rows["INC12"]["badge"]) == (
        "UNK",
        "investigator only",
        "not answered",
    )
    clearance = rows["INC06"]
    assert clearance["computed"].startswith("met ")
    assert clearance["evidence"] == "Creatinine clearance (Cockcroft-Gault) (SCR): 70.0 mL/min"
    assert clearance["badge"] == "satisfied"
    # Albumin below 3.0 g/dL with a normal prothrombin time: not excluded, evidence shown.
    assert rows["EXC06"]["computed"].startswith("not met ")
    assert rows["EXC06"]["evidence"] == (
        "Albumin (SCR): 2.9 g/dL Prothrombin time (SCR): 12.5 s"
        " Prothrombin time: upper limit of normal (SCR): 14.0 s"
    )
    assert rows["EXC07"]["computed"].startswith(
        "investigator only Rule: Not computed: the investigator decides."
    )
    assert rows["INC03"]["evidence"] == (
        "Prior somatostatin analogs and LUTATHERA cycles: Standard intravenous LUTATHERA®"
        " cycles: 4 row(s)"
    )


def test_before_any_entry_every_criterion_is_unanswered(client, patient):
    identifier = patient(screened=False)

    page = client.get(f"/subjects/{identifier}").get_data(as_text=True)

    assert "Inclusion not possible: 24 criteria to resolve" in page
    rows = criteria_rows(page)
    assert {r["state"] for r in rows.values()} == {"unanswered"}
    assert rows["INC06"]["evidence"] == "Creatinine clearance (Cockcroft-Gault) (SCR): —"


def test_inclusion_of_a_patient_not_eligible_is_refused_at_the_status_field(
    app, client, auth, patient
):
    identifier = patient({"LBHEM": {"PLAT": "99999"}, "IE": {"EXC10": "NASK"}})
    as_investigator(auth)

    response = post_status(client, identifier, "included")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert status_error(page) == (
        REFUSAL + "INC08 (answer contradicts the data); EXC10 (not answered)."
    )
    (select,) = re.findall(r'<select[^>]*id="status-status"[^>]*>', page)
    assert 'aria-invalid="true"' in select
    assert "Inclusion not possible: 2 criteria to resolve" in page  # the panel says why
    with app.app_context():
        assert subjects.get_subject(identifier).status is SubjectStatus.SCREENING


def test_inclusion_of_an_eligible_patient_is_accepted(app, client, auth, patient):
    identifier = patient()
    as_investigator(auth)
    page = client.get(f"/subjects/{identifier}").get_data(as_text=True)
    assert "All criteria satisfied: inclusion possible" in page

    response = post_status(client, identifier, "included", "All 24 criteria met")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/subjects/{identifier}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{identifier} is now included." in page
    assert '<span class="status status-ok">Included</span>' in page
    with app.app_context():
        subject = subjects.get_subject(identifier)
        assert (subject.status, subject.status_reason) == (
            SubjectStatus.INCLUDED,
            "All 24 criteria met",
        )


def test_a_screen_failure_from_the_page_records_the_failing_criteria(app, client, auth, patient):
    identifier = patient({"LVEF": {"LVEF": "39"}, "IE": {"EXC03": "Y"}})
    as_investigator(auth)

    response = post_status(client, identifier, "screen_failure", "Low LVEF")

    assert response.status_code == 302
    with app.app_context():
        subject = subjects.get_subject(identifier)
        assert (subject.status, subject.status_reason) == (
            SubjectStatus.SCREEN_FAILURE,
            "Low LVEF [criteria not met: EXC03]",
        )


def test_the_nurse_prepares_and_the_page_says_the_decision_is_the_investigators(
    app, client, patient
):
    identifier = patient()
    page = client.get(f"/subjects/{identifier}").get_data(as_text=True)
    assert "Inclusion, screen failure and withdrawal are the investigator's decisions." in page
    assert 'value="included"' not in page and 'value="screen_failure"' not in page

    response = post_status(client, identifier, "included", "All 24 criteria met")

    assert response.status_code == 422
    with app.app_context():
        assert subjects.get_subject(identifier).status is SubjectStatus.SCREENING
        assert subjects.get_subject(identifier).status_reason is None


def test_the_subject_page_shows_the_screen_failure_record(app, client, auth, patient):
    identifier = patient({"LVEF": {"LVEF": "39"}, "IE": {"EXC03": "Y"}})
    as_investigator(auth)
    post_status(client, identifier, "screen_failure", "Low LVEF")

    page = client.get(f"/subjects/{identifier}").get_data(as_text=True)

    assert "Reason for the status:</strong> Low LVEF [criteria not met: EXC03]" in page
    assert "has left the study (screen failure): no new visit can be started" in page


def test_after_inclusion_a_corrected_value_shows_as_a_question_beside_its_criterion(
    app, client, patient
):
    identifier = patient()
    with app.app_context():
        study = current_study()
        subject = subjects.get_subject(identifier)
        nurse = db.session.query(User).filter_by(username="bnurse").one()
        investigator = db.session.query(User).filter_by(username="binv").one()
        subjects.change_status(
            study, subject, SubjectStatus.INCLUDED, actor=investigator, reason="Eligible"
        )
        visits.set_visit_date(study, subject, "PETIV", date(2025, 1, 13), actor=nurse)
        services.save_form(
            study,
            subject,
            "SCR",
            "LVEF",
            {("LVEF", 1): {"LVEF": "39"}},
            actor=nurse,
            expected_version=entry_of(subject, "SCR", "LVEF").version,
            reason="Echocardiography report re-read",
        )
        # The IAH procedure rescheduled one day later: the PET-IV leaves its window.
        services.save_form(
            study,
            subject,
            "SCR",
            "IC",
            {("IC", 1): {"D0PLAN": "2025-02-04"}},
            actor=nurse,
            expected_version=entry_of(subject, "SCR", "IC").version,
            reason="Rescheduled",
        )
        db.session.commit()

    page = client.get(f"/subjects/{identifier}").get_data(as_text=True)

    assert "Assessed again on the data as they are now: 1 criterion for the investigator" in page
    assert criteria_rows(page)["EXC03"]["computed"].startswith(
        "met Rule: Screening LVEF < 40 %. Question EXC03: the data say this criterion is met"
    )
    assert "The window moved with D0" in page, re.findall(r"deviation[^<]{0,80}", page)
