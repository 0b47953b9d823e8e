"""The signing pages as an investigator meets them: "Sign" on the subject page, the page
showing what is signed, the meaning, the queries not closed (a checkbox to confirm), the
username and password at the first signing of the session and the password alone after;
the subject page showing each signature valid (name, time, meaning) or no longer valid
(why, and "Sign again")."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.signatures.models import Signature, SignatureState
from ecrf.study import subjects
from tests.conftest import PASSWORD

SIGN_SCR = "/subjects/BDX-001/sign/visit/SCR/1"
SUBJECT = "/subjects/BDX-001"


def text_of(response) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r" ([:,.?])", r"\1", text)


def save(app, values, *, version, reason=None):
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


@pytest.fixture
def clinic(app, create_site, create_user):
    create_site("BDX")
    create_site("TLS")
    with app.app_context():
        subjects.register_subject(get_site("BDX"), actor=None)
        db.session.commit()
    save(app, {"LBDAT": "2024-05-02", "HGB": "13"}, version=0)
    create_user("doc", Role.INVESTIGATOR, "BDX")
    create_user("nurse", Role.SITE_STAFF, "BDX")
    create_user("monitor", Role.MONITOR, "BDX")


def signatures(app) -> list[tuple]:
    with app.app_context():
        return [
            (s.scope.value, s.visit_oid, s.state, s.printed_name)
            for s in db.session.scalars(sa.select(Signature).order_by(Signature.id))
        ]


def test_an_investigator_signs_a_visit_from_the_subject_page(app, client, auth, clinic):
    auth.login("doc")
    page = client.get(SUBJECT)
    assert "Investigator signatures" in text_of(page)
    assert SIGN_SCR.encode() in page.data
    form = client.get(SIGN_SCR)
    text = text_of(form)
    assert form.status_code == 200
    assert "Sign the visit Screening" in text
    assert "Haemoglobin 13.0 g/dL" in text  # the signed fields, with their units
    assert "I attest that I have reviewed the data of the visit Screening of subject BDX-001" in (
        text
    )
    assert 'name="username"' in form.get_data(as_text=True)  # both components, first time
    assert 'name="confirm_open_queries"' not in form.get_data(as_text=True)

    # A component missing: said at its field, nothing signed.
    missing = client.post(SIGN_SCR, data={"username": "", "password": PASSWORD})
    assert missing.status_code == 422 and "Enter your username." in text_of(missing)
    # A wrong password: said, counted, audited, nothing signed.
    wrong = client.post(SIGN_SCR, data={"username": "doc", "password": "nope"})
    assert wrong.status_code == 422 and "Wrong username or password." in text_of(wrong)
    assert signatures(app) == []
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "identity_check_failed")
            )
            == 1
        )

    done = client.post(SIGN_SCR, data={"username": "doc", "password": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith(SUBJECT + "#signatures")
    assert signatures(app) == [("visit", "SCR", SignatureState.VALID, "Doc")]
    shown = text_of(client.get(SUBJECT))
    assert "signed Doc (investigator)" in shown and " UTC" in shown
    assert "“I attest that I have reviewed the data of the visit Screening" in shown

    # Later in the session: the password alone.
    casebook = client.get("/subjects/BDX-001/sign/casebook")
    assert 'name="username"' not in casebook.get_data(as_text=True)
    assert "your password is enough" in text_of(casebook)
    assert (
        client.post("/subjects/BDX-001/sign/casebook", data={"password": PASSWORD}).status_code
        == 302
    )


def test_a_later_change_shows_the_signature_no_longer_valid_and_asks_to_sign_again(
    app, client, auth, clinic
):
    auth.login("doc")
    client.post(SIGN_SCR, data={"username": "doc", "password": PASSWORD})
    save(app, {"HGB": "14"}, version=1, reason="transcription error")
    page = text_of(client.get(SUBJECT))
    assert "no longer valid" in page
    assert "Data changed after signing: Screening › Haematology › Haemoglobin" in page
    assert "Sign again" in page
    again = text_of(client.get(SIGN_SCR))
    assert "is no longer valid" in again and "Haemoglobin 14.0 g/dL" in again
    # Same session: the password alone signs again.
    assert client.post(SIGN_SCR, data={"password": PASSWORD}).status_code == 302
    assert [s[2] for s in signatures(app)] == [SignatureState.INVALIDATED, SignatureState.VALID]
    assert "Sign again" not in text_of(client.get(SUBJECT))


def test_signing_over_open_queries_needs_the_box_ticked(app, client, auth, clinic):
    with app.app_context():
        subject = subjects.get_subject("BDX-001")
        target = QueryTarget("SCR", 1, "LB", item_oid="HGB")
        queries.open_query(current_study(), subject, target, "Really 13?", actor=None)
        db.session.commit()
    auth.login("doc")
    page = client.get(SIGN_SCR)
    assert "1 query on these data is not closed" in text_of(page)
    assert 'name="confirm_open_queries"' in page.get_data(as_text=True)
    refused = client.post(SIGN_SCR, data={"username": "doc", "password": PASSWORD})
    assert refused.status_code == 422
    assert "confirm that you sign over it" in text_of(refused)
    assert signatures(app) == []
    done = client.post(
        SIGN_SCR, data={"username": "doc", "password": PASSWORD, "confirm_open_queries": "y"}
    )
    assert done.status_code == 302
    assert "Signed over 1 query not closed." in text_of(client.get(SUBJECT))


def test_who_is_not_an_investigator_sees_signatures_but_no_sign_button(app, client, auth, clinic):
    auth.login("nurse")
    page = client.get(SUBJECT)
    assert "Investigator signatures" in text_of(page) and "not signed" in text_of(page)
    assert SIGN_SCR.encode() not in page.data
    assert client.get(SIGN_SCR).status_code == 403
    assert client.post(SIGN_SCR, data={"username": "nurse", "password": PASSWORD}).status_code == (
        403
    )
    assert signatures(app) == []


def test_a_new_session_asks_for_both_components_again(app, client, auth, clinic):
    auth.login("doc")
    client.post(SIGN_SCR, data={"username": "doc", "password": PASSWORD})
    auth.logout()
    auth.login("doc")
    page = client.get("/subjects/BDX-001/sign/casebook")
    assert 'name="username"' in page.get_data(as_text=True)
    refused = client.post("/subjects/BDX-001/sign/casebook", data={"password": PASSWORD})
    assert refused.status_code == 422 and "Enter your username." in text_of(refused)


JUNK = ["", " ", "x" * 5000, "\x00", "🙂", "<script>alert(1)</script>", "'; DROP TABLE x; --"]


@pytest.mark.parametrize(
    "path",
    [
        SIGN_SCR,
        "/subjects/BDX-001/sign/visit/NOPE/1",
        "/subjects/BDX-001/sign/visit/UNS/99",
        "/subjects/BDX-001/sign/visit/SCR/0",
        "/subjects/BDX-001/sign/inclusion",
        "/subjects/BDX-001/sign/casebook",
        "/subjects/NOPE-1/sign/casebook",
    ],
)
def test_junk_is_refused_at_the_field_never_a_server_error(app, client, auth, clinic, path):
    auth.login("doc")
    for junk in JUNK:
        response = client.post(
            path, data={"username": junk, "password": junk, "confirm_open_queries": junk}
        )
        assert response.status_code in (200, 400, 404, 422), (path, junk[:10], response.status_code)
    assert signatures(app) == []


def test_nobody_signs_with_a_colleagues_username_and_password(app, client, auth, clinic):
    auth.login("doc")
    refused = client.post(SIGN_SCR, data={"username": "nurse", "password": PASSWORD})
    assert refused.status_code == 422 and "Wrong username or password." in text_of(refused)
    assert signatures(app) == []
    with app.app_context():
        failed = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "identity_check_failed")
        )
        assert (failed.actor, failed.entity_id, failed.reason) == ("doc", "doc", "wrong username")
