"""The gates of the real IAH-PRRT trial on the pages: before consent the subject page says
what is open and a form of a later visit is refused at the form; after withdrawal the
page says so and a change of a draft asks for its reason."""

from __future__ import annotations

import html
from datetime import date

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import FormEntry, Site, SubjectStatus, SubjectVisit
from ecrf.study import subjects
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)
CM_FORM = "/visits/LOGS/1/forms/CM"
OPEN_BEFORE_CONSENT = (
    "Only screening / inclusion can be filled in until the date of signed informed consent is"
    " recorded on the informed consent and study part form."
)
CM_ROW = {
    "CM-1-CMTRT": "Paracetamol",
    "CM-1-CMINDC": "Pain",
    "CM-1-CMSTDAT": "2025-01-10",
    "CM-1-CMPRIOR": "N",
    "CM-1-CMONGO": "Y",
    "rows-CM": "1",
}


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def nurse(app, auth, create_site, create_user):
    create_site("BDX")
    user_id = create_user("bnurse", Role.SITE_STAFF, "BDX")
    create_user("binv", Role.INVESTIGATOR, "BDX")
    auth.login("bnurse")
    return user_id


def register(app, nurse_id, *, screened=False) -> str:
    with app.app_context():
        site = db.session.scalars(sa.select(Site)).one()
        actor = db.session.get(User, nurse_id)
        subject = subjects.register_subject(site, actor=actor)
        db.session.commit()
        if screened:
            save_screening(current_study(), subject, actor, CONSENT)
        return subject.identifier


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_before_consent_the_subject_page_says_what_is_open(app, client, nurse):
    identifier = register(app, nurse)

    page = text(client.get(f"/subjects/{identifier}"))

    assert OPEN_BEFORE_CONSENT in page
    assert page.count("opens once consent is recorded") == 3  # PETIV, PETIAH, CALL
    assert "Add an unscheduled visit" not in page


def test_before_consent_a_form_of_another_visit_is_refused_at_the_form(app, client, nurse):
    identifier = register(app, nurse)
    url = f"/subjects/{identifier}{CM_FORM}"
    shown = text(client.get(url))
    assert "No consent date is recorded for BDX-001 yet" in shown
    assert "Save draft" not in shown

    response = client.post(url, data={**CM_ROW, "version": "0", "action": "save"})

    assert response.status_code == 422
    assert (
        "No consent date is recorded for BDX-001 yet: record the date of signed informed"
        " consent on the informed consent and study part form (screening / inclusion) before"
        " entering data of logs." in text(response)
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FormEntry)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SubjectVisit)) == 0


def test_a_visit_date_before_consent_is_refused_at_its_field(app, client, nurse):
    identifier = register(app, nurse)
    response = client.post(
        f"/subjects/{identifier}/visits/PETIV/1/date",
        data={"date-PETIV-1-visit_date": "2025-01-10"},
    )
    assert response.status_code == 422
    assert "No consent date is recorded for BDX-001 yet" in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SubjectVisit)) == 0


def test_after_withdrawal_the_page_says_so_and_a_draft_change_needs_its_reason(
    app, client, auth, nurse
):
    identifier = register(app, nurse, screened=True)
    url = f"/subjects/{identifier}{CM_FORM}"
    assert client.post(url, data={**CM_ROW, "version": "0", "action": "save"}).status_code == 302
    with app.app_context():
        subject = subjects.get_subject(identifier)
        investigator = db.session.scalar(sa.select(User).where(User.username == "binv"))
        for status in (SubjectStatus.INCLUDED, SubjectStatus.WITHDRAWN):
            subjects.change_status(
                current_study(), subject, status, actor=investigator, reason="Decided"
            )
        db.session.commit()

    page = text(client.get(f"/subjects/{identifier}"))
    assert (
        "BDX-001 has left the study (withdrawn): no new visit can be started, and every change"
        " to a form already filled in needs its reason (kept in the audit trail). The"
        " documentation of the end stays open: End of study / withdrawal, Death." in page
    )
    form = text(client.get(url))
    assert 'id="reason"' in form  # asked for on a draft too

    changed = {**CM_ROW, "CM-1-CMDSTXT": "1 g", "version": "1", "action": "save"}
    refused = client.post(url, data=changed)
    assert refused.status_code == 422
    assert "BDX-001 has left the study (withdrawn): give the reason for this change." in text(
        refused
    )
    accepted = client.post(url, data={**changed, "reason": "Dose from the prescription"})
    assert accepted.status_code == 302
