"""The lock pages as their users meet them: a data manager locks a form from its page, the
nurse finds it read-only with the lock named, and a save posted anyway is refused at the top
of the form; locks show on the matrix and the subject page; unlocking asks why; the study
freeze; junk never gets a 500."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.locks.models import DataLock

FORM = "/subjects/BDX-001/visits/SCR/1/forms/DM"
LOCK_FORM = "/locks/new?subject=BDX-001&visit=SCR&form=DM"


@pytest.fixture
def clinic(create_site, create_user, create_subject):
    create_site("BDX")
    create_site("TLS")
    for _ in range(2):
        create_subject("BDX", {("SCR", "DM"): {("DM", 1): {"SEX": "M"}}})
    create_subject("TLS", {("SCR", "DM"): {("DM", 1): {"SEX": "F"}}})
    create_user("data.manager", Role.DATA_MANAGER)
    create_user("dm.tls", Role.DATA_MANAGER, "TLS")
    create_user("staff.bdx", Role.SITE_STAFF, "BDX")
    create_user("monitor", Role.MONITOR)


def text_of(response) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r" ([:,.?])", r"\1", text)


def lock(client, auth, path=LOCK_FORM, reason="Cleaned for the interim analysis"):
    auth.login("data.manager")
    response = client.post(path, data={"reason": reason})
    assert response.status_code == 302, text_of(response)
    auth.logout()
    return response


def count(app, model=DataLock) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_data_manager_locks_a_form_from_its_page(app, client, auth, clinic):
    auth.login("data.manager")
    assert "Lock this form…" in text_of(client.get(FORM))
    page = client.get(LOCK_FORM)
    assert "To lock: form Demographics of visit Screening, subject BDX-001" in text_of(page)
    done = client.post(LOCK_FORM, data={"reason": "Cleaned"})
    assert done.status_code == 302 and done.headers["Location"].endswith(FORM)
    shown = text_of(client.get(FORM))
    assert "Locked: form Demographics of visit Screening, subject BDX-001." in shown
    assert "Locked: this form was locked by Data.Manager on" in shown and "Unlock…" in shown
    # Twice: refused at the top of the form, naming the lock that holds it.
    again = client.post(LOCK_FORM, data={"reason": ""})
    assert again.status_code == 422
    assert "Already locked: BDX-001/SCR[1]/DM is covered by the lock of BDX-001/SCR[1]/DM" in (
        text_of(again)
    )
    assert count(app) == 1


def test_the_nurse_finds_the_locked_form_read_only_and_a_save_is_refused_at_the_form(
    app, client, auth, clinic
):
    lock(client, auth)
    auth.login("staff.bdx")
    page = client.get(FORM)
    html = page.get_data(as_text=True)
    assert "Locked: this form was locked by Data.Manager on" in text_of(page)
    inputs = re.findall(r'<(?:input|select|textarea)[^>]*name="DM-1-[A-Z]+"[^>]*>', html)
    assert inputs and all("disabled" in tag for tag in inputs)
    assert "Save draft" not in html and "Save and mark complete" not in html
    assert "Lock this form" not in html and "Unlock" not in html
    before = count(app, AuditEvent)
    refused = client.post(FORM, data={"version": "1", "DM-1-SEX": "F", "action": "save"})
    assert refused.status_code == 422
    message = re.search(
        r'<div class="form-errors" role="alert">(.*?)</div>', refused.get_data(as_text=True), re.S
    )
    assert message is not None
    assert (
        "This form is locked: Demographics of visit Screening of BDX-001 was locked by Data.Manager"
        in (message.group(1))
    )
    assert "ask a data manager to unlock it" in message.group(1)
    assert count(app, AuditEvent) == before


def test_locks_show_on_the_matrix_and_the_subject_page(app, client, auth, clinic):
    lock(client, auth, "/locks/new?subject=BDX-001")
    lock(client, auth, "/locks/new?subject=BDX-002&visit=BASE")
    auth.login("staff.bdx")
    matrix = client.get("/subjects").get_data(as_text=True)
    rows = {
        identifier: row
        for identifier, row in re.findall(
            r"<tr>\s*<th scope=\"row\"[^>]*>.*?<code>([A-Z]+-\d+)</code>(.*?)</tr>", matrix, re.S
        )
    }
    assert "lock-flag" in rows["BDX-001"].split("</th>")[0]
    header, cells = rows["BDX-002"].split("</th>", 1)
    assert "lock-flag" not in header
    base = re.search(r'href="[^"]*#visit-BASE-1"[^>]*>(.*?)</a>', cells, re.S).group(1)
    scr = re.search(r'href="[^"]*#visit-SCR-1"[^>]*>(.*?)</a>', cells, re.S).group(1)
    assert "locked" in base and "locked" not in scr
    subject = text_of(client.get("/subjects/BDX-001"))
    assert "Locked: subject BDX-001 was locked by Data.Manager on" in subject
    assert "Record date" not in subject and "Change status" not in subject
    other = client.get("/subjects/BDX-002").get_data(as_text=True)
    base_row = re.search(r'<tr id="visit-BASE-1".*?</tr>', other, re.S).group(0)
    scr_row = re.search(r'<tr id="visit-SCR-1".*?</tr>', other, re.S).group(0)
    assert "lock-flag" in base_row and "Record date" not in base_row
    assert "lock-flag" not in scr_row and "Record date" in scr_row


def test_unlocking_asks_why_at_the_field_and_keeps_the_history(app, client, auth, clinic):
    lock(client, auth)
    auth.login("data.manager")
    with app.app_context():
        lock_id = db.session.scalar(sa.select(DataLock.id))
    assert "Locked" in text_of(client.get(f"/locks/{lock_id}"))
    empty = client.post(f"/locks/{lock_id}/unlock", data={"reason": "  "})
    assert empty.status_code == 422
    assert re.search(
        r'id="reason-error" class="error">Say why the data are unlocked\.',
        empty.get_data(as_text=True),
    )
    done = client.post(f"/locks/{lock_id}/unlock", data={"reason": "Query 3: the sex is corrected"})
    assert done.status_code == 302 and done.headers["Location"].endswith(FORM)
    listing = text_of(client.get("/locks"))
    assert "Nothing is locked." in listing
    assert "Query 3: the sex is corrected" in listing
    auth.logout()
    auth.login("staff.bdx")
    assert "Save draft" in client.get(FORM).get_data(as_text=True) or "Save changes" in client.get(
        FORM
    ).get_data(as_text=True)


def test_the_study_freeze_stops_registration_everywhere(app, client, auth, clinic):
    auth.login("dm.tls")
    assert "Freeze the whole study" not in text_of(client.get("/locks"))
    assert client.post("/locks/new", data={"reason": "x"}).status_code == 403
    auth.logout()
    auth.login("data.manager")
    assert "Freeze the whole study…" in text_of(client.get("/locks"))
    frozen = client.post("/locks/new", data={"reason": "Database freeze for the final analysis"})
    assert frozen.status_code == 302 and frozen.headers["Location"].endswith("/locks")
    assert "Locked: the whole study was frozen by Data.Manager" in text_of(client.get("/locks"))
    auth.logout()
    auth.login("staff.bdx")
    refused = client.post("/subjects", data={"site": "BDX"})
    assert refused.status_code == 409
    assert "The study is locked (database freeze)" in text_of(refused)


def test_a_site_is_locked_from_its_page_by_its_data_managers_only(app, client, auth, clinic):
    auth.login("dm.tls")
    assert "Lock this site…" in text_of(client.get("/sites/TLS"))
    assert client.get("/locks/new?site=BDX").status_code == 404
    assert client.get("/locks/new?subject=BDX-001").status_code == 404
    done = client.post("/locks/new?site=TLS", data={"reason": ""})
    assert done.status_code == 302 and done.headers["Location"].endswith("/sites/TLS")
    assert "Locked: site TLS was locked by Dm.Tls" in text_of(client.get("/sites/TLS"))
    auth.logout()
    auth.login("monitor")
    page = text_of(client.get("/subjects/TLS-001"))
    assert "Locked: site TLS was locked by" in page and "Lock this" not in page


JUNK = ["", " ", "x" * 5000, "<script>", "١٢٣", "0", "-1", "99999999999", "🙂", "SCR"]


def test_junk_into_the_lock_pages_never_gets_a_server_error(app, client, auth, clinic):
    lock(client, auth)
    auth.login("data.manager")
    statuses = set()
    for junk in JUNK:
        query = {"site": junk, "subject": junk, "visit": junk, "repeat": junk, "form": junk}
        for method, path in [
            ("GET", "/locks/new"),
            ("POST", "/locks/new"),
            ("GET", "/locks/1"),
            ("POST", "/locks/1/unlock"),
            ("GET", "/locks"),
        ]:
            response = client.open(path, method=method, query_string=query, data={"reason": junk})
            statuses.add(response.status_code)
            assert response.status_code < 500, (method, path, junk)
    for query in (
        {"subject": "BDX-001", "visit": "SCR", "repeat": "x"},
        {"subject": "BDX-001", "form": "DM"},
    ):
        assert client.get("/locks/new", query_string=query).status_code == 404
    assert 422 in statuses and 404 in statuses
