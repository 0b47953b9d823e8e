"""Bad input never gets a 500: every route, fed junk, answers with a page or a message."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import current_study
from ecrf.study import subjects

JUNK_VALUES = [
    "",
    " ",
    "x" * 5000,
    "'; DROP TABLE subject; --",
    "<script>alert(1)</script>",
    "١٢٣",  # Arabic-Indic digits
    "1e309",
    "2024-02-30",
    "\x00",
    "🙂",
]

ARGS = {
    "identifier": ["BDX-001", "NOPE-999", "bdx-001"],
    "visit_oid": ["SCR", "LOGS", "UNS", "NOPE"],
    "repeat": ["1", "99"],
    "repeat_key": ["1", "99"],
    "form_oid": ["DM", "LES", "AE", "NOPE"],
    "group_oid": ["LESION", "DM", "NOPE"],
    "key": ["1", "99"],
    "username": ["alice", "ghost"],
    "assignment_id": ["1", "999"],
    "token_id": ["1", "999"],
    "code": ["BDX", "XX"],
    "job_id": ["1", "99999999999"],
    "query_id": ["1", "99999999999"],
    "lock_id": ["1", "99999999999"],
    "laboratory_id": ["1", "99999999999"],
    "range_id": ["1", "99999999999"],
}


def concrete_paths(app) -> list[tuple[str, str]]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = sorted(m for m in rule.methods if m in ("GET", "POST"))
        urls = [rule.rule]
        for arg in rule.arguments:
            urls = [re.sub(rf"<(?:\w+:)?{arg}>", value, url) for url in urls for value in ARGS[arg]]
        paths.extend((method, url) for method in methods for url in urls)
    return paths


@pytest.fixture
def world(app, create_site, create_user, create_subject):
    create_site("BDX")
    create_user("alice", Role.SITE_STAFF, "BDX")
    create_user("boss", Role.ADMIN)
    identifier = create_subject("BDX", {("SCR", "DM"): {("DM", 1): {"SEX": "M"}}})
    with app.app_context():
        subject = subjects.get_subject(identifier)
        target = QueryTarget("SCR", 1, "DM", item_oid="SEX")
        queries.open_query(current_study(), subject, target, "Sex as on the ID?", actor=None)
        db.session.commit()


#: The form fields and query arguments every request carries, each set to the junk value.
FORM_FIELDS = (
    "version",
    "action",
    "reason",
    "status",
    "site",
    "visit_date",
    "deviation_reason",
    "code",
    "name",
    "username",
    "full_name",
    "password",
    "confirm",
    "role",
    "grant-role",
    "grant-site",
    "reset-password",
    "deactivate-reason",
    "current_password",
    "rows-LESION",
    "DM-1-WEIGHT",
    "DM-1-BRTHYM",
    "DM-1-SEX",
    "DM-1-SYMPT",
    "LESION-1-SUVMAX",
    "LESION-x-y",
    "text",
    "answer-text",
    "close-text",
    "reopen-text",
    "confirm_open_queries",
    "up_to",
    "user",
    "form",
    "item",
    "target",
    "percentage",
)

QUERY_ARGS = (
    "field",
    "page",
    "site",
    "status",
    "next",
    "state",
    "form",
    "subject",
    "older_than",
    "mine",
    "visit",
    "repeat",
    "group",
    "row",
    "item",
    "user",
    "show",
    "from",
    "to",
)

#: Encoded as the test client encodes them (werkzeug's characters left unquoted).
URL_SAFE = "!$'()*,/:;?@"


def junk_requests() -> list[tuple[str, bytes, str]]:
    """Each junk value with its form body and query string, encoded once for every route
    (the same bytes the test client would encode from dicts): encoding the 5,000-character
    value into 37 fields and 19 arguments for each of 1,200 routes took a sixteenth of the
    test's time."""
    return [
        (
            junk,
            urlencode({name: junk for name in FORM_FIELDS}, safe=URL_SAFE).encode(),
            urlencode({name: junk for name in QUERY_ARGS}, safe=URL_SAFE),
        )
        for junk in JUNK_VALUES
    ]


@pytest.mark.parametrize("username", ["alice", "boss"])
def test_no_route_answers_junk_with_a_server_error(app, client, auth, world, username):
    auth.login(username)
    failures = []
    statuses = set()
    requests = junk_requests()
    for method, path in concrete_paths(app):
        if path in ("/logout",):
            continue
        for junk, body, query in requests:
            response = client.open(
                path,
                method=method,
                data=body,
                content_type="application/x-www-form-urlencoded",
                query_string=query,
            )
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append((method, path, junk[:20], response.status_code))
        if failures:
            break
    assert failures == []
    # The junk reached the validation of forms and services, and was refused there.
    assert 422 in statuses and 200 in statuses


# --- numbers beyond what a column holds -----------------------------------------------------

HUGE = ["2147483648", "9223372036854775808", "1" + "0" * 40]


def trail_and_rows(app) -> tuple[int, ...]:
    """What a refusal must leave as it was: the audit trail and every clinical table."""
    from ecrf.audit.models import AuditEvent
    from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Subject, SubjectVisit

    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (AuditEvent, Subject, SubjectVisit, FormEntry, ItemGroupRow, ItemValue)
        )


@pytest.mark.parametrize("number", HUGE)
def test_huge_numbers_in_urls_are_not_found_and_write_nothing(app, client, auth, world, number):
    auth.login("alice")
    before = trail_and_rows(app)
    form_url = f"/subjects/BDX-001/visits/UNS/{number}/forms/LB"
    for method, url in [
        ("GET", form_url),
        ("POST", form_url),
        ("GET", form_url + "/history"),
        ("POST", f"/subjects/BDX-001/visits/BASE/1/forms/LES/rows/LESION/{number}/remove"),
        ("POST", f"/subjects/BDX-001/visits/UNS/{number}/date"),
        ("GET", f"/subjects?page={number}"),
    ]:
        response = client.open(
            url, method=method, data={"LB-1-HGB": "13", "reason": "x", "version": "0"}
        )
        assert response.status_code == 404, (method, url, response.status_code)
    assert trail_and_rows(app) == before


@pytest.mark.parametrize("page", ["0", "-1", "x", "1.5"])
def test_a_subject_list_page_that_cannot_exist_is_not_found(client, auth, world, page):
    auth.login("alice")
    assert client.get(f"/subjects?page={page}").status_code == 404
    assert client.get("/subjects?page=1").status_code == 200


def test_another_occurrence_of_a_scheduled_visit_is_not_found(app, client, auth, world):
    auth.login("alice")
    before = trail_and_rows(app)
    assert client.get("/subjects/BDX-001/visits/SCR/2/forms/DM").status_code == 404
    response = client.post("/subjects/BDX-001/visits/SCR/2/forms/DM", data={"DM-2-SEX": "F"})
    assert response.status_code == 404
    response = client.post(
        "/subjects/BDX-001/visits/SCR/2/date", data={"date-SCR-2-visit_date": "2024-05-01"}
    )
    assert response.status_code == 404
    assert trail_and_rows(app) == before


@pytest.mark.parametrize("number", HUGE)
def test_huge_numbers_posted_in_a_form_are_refused_and_write_nothing(
    app, client, auth, world, number
):
    auth.login("alice")
    before = trail_and_rows(app)
    les = "/subjects/BDX-001/visits/BASE/1/forms/LES"
    # The form's version and its row keys are the page's own hidden fields.
    response = client.post(les, data={"version": number, "LESION-1-SUVMAX": "5"})
    assert response.status_code == 400
    response = client.post(
        les, data={"version": "0", "rows-LESION": f"1,{number}", f"LESION-{number}-SUVMAX": "5"}
    )
    assert response.status_code == 400
    # A typed number beyond NUMERIC(28, 10) is refused at its field.
    response = client.post(
        les, data={"version": "0", "rows-LESION": "1", "LESION-1-SUVMAX": number}
    )
    assert response.status_code == 422
    expected = "too large" if len(number) > 18 else "impossible here"
    assert expected in response.get_data(as_text=True)
    dm = "/subjects/BDX-001/visits/SCR/1/forms/DM"
    response = client.post(dm, data={"version": "1", "DM-1-HEIGHT": number})
    assert response.status_code == 422
    # Removing a row of a page whose version cannot exist: out of date, nothing removed.
    response = client.post(les + "/rows/LESION/1/remove", data={"version": number, "reason": "x"})
    assert response.status_code == 302
    assert trail_and_rows(app) == before


def test_a_date_far_outside_the_calendar_is_refused_at_the_visit_date(app, client, auth, world):
    auth.login("alice")
    before = trail_and_rows(app)
    for day in ("0001-01-02", "1899-12-31", "9999-12-20"):
        response = client.post(
            "/subjects/BDX-001/visits/BASE/1/date", data={"date-BASE-1-visit_date": day}
        )
        assert response.status_code == 422, day
    assert trail_and_rows(app) == before
