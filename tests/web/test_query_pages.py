"""The query pages as their users meet them: a monitor raises a query from its page, the
site answers in the thread, the monitor closes and reopens it; the list filters by site,
state, form, subject, age and "mine", with counts, and shows each side only its sites."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.queries.models import Query, QueryState
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import subjects

NEW = "/subjects/BDX-001/queries/new?visit=SCR&form=DM&item=SEX"


@pytest.fixture
def clinic(app, create_site, create_user):
    create_site("BDX")
    create_site("TLS")
    with app.app_context():
        for code in ("BDX", "TLS"):
            subject = subjects.register_subject(get_site(code), actor=None)
            save_form(
                current_study(),
                subject,
                "SCR",
                "DM",
                {("DM", 1): {"SEX": "M"}},
                actor=None,
                expected_version=0,
            )
        db.session.commit()
    create_user("monitor", Role.MONITOR)
    create_user("staff.bdx", Role.SITE_STAFF, "BDX")
    create_user("staff.tls", Role.SITE_STAFF, "TLS")


def raise_query(client, auth, path=NEW, text="Sex as on the identity card?"):
    auth.login("monitor")
    response = client.post(path, data={"text": text})
    assert response.status_code == 302, response.data
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def text_of(response) -> str:
    """The page's text as read: tags gone, spaces collapsed, none before punctuation."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r" ([:,.?])", r"\1", text)


def test_a_monitor_raises_a_query_from_its_page(app, client, auth, clinic):
    auth.login("monitor")
    page = client.get(NEW)
    assert page.status_code == 200
    assert "About: Screening › Demographics › Sex" in text_of(page)
    empty = client.post(NEW, data={"text": "  "})
    assert empty.status_code == 422
    assert "Write the question." in text_of(empty)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Query)) == 0
    query_id = raise_query(client, auth)
    thread = text_of(client.get(f"/queries/{query_id}"))
    assert "Screening › Demographics › Sex" in thread
    assert "Sex as on the identity card?" in thread
    assert "Close the query" in thread and "Send the answer" not in thread


def test_a_query_on_nothing_is_not_found(client, auth, clinic):
    auth.login("monitor")
    assert client.get("/subjects/BDX-001/queries/new?visit=SCR&form=LB").status_code == 404
    assert (
        client.get("/subjects/BDX-001/queries/new?visit=SCR&form=DM&item=NOPE").status_code == 404
    )
    assert client.get("/subjects/BDX-001/queries/new?visit=SCR&repeat=0").status_code == 404


def test_the_site_answers_then_the_monitor_closes_and_reopens(app, client, auth, clinic):
    query_id = raise_query(client, auth)
    auth.logout()
    auth.login("staff.bdx")
    thread = client.get(f"/queries/{query_id}")
    assert "Send the answer" in text_of(thread) and "Close the query" not in text_of(thread)
    answered = client.post(f"/queries/{query_id}/answer", data={"answer-text": "Yes: male."})
    assert answered.status_code == 302
    auth.logout()
    auth.login("monitor")
    assert client.post(f"/queries/{query_id}/close", data={"close-text": ""}).status_code == 302
    no_reason = client.post(f"/queries/{query_id}/reopen", data={"reopen-text": ""})
    assert no_reason.status_code == 422
    assert "Say why the query is reopened." in text_of(no_reason)
    reopened = client.post(f"/queries/{query_id}/reopen", data={"reopen-text": "ID says F."})
    assert reopened.status_code == 302
    thread = text_of(client.get(f"/queries/{query_id}"))
    for words in (
        "Monitor asked",
        "Staff.Bdx answered",
        "Yes: male.",
        "Monitor closed",
        "Monitor reopened",
        "ID says F.",
    ):
        assert words in thread, words
    with app.app_context():
        assert db.session.get(Query, query_id).state is QueryState.OPEN


def test_the_list_filters_and_counts(client, auth, clinic):
    first = raise_query(client, auth)
    raise_query(client, auth, "/subjects/TLS-001/queries/new?visit=SCR", "Visit letter?")
    client.post(f"/queries/{first}/close", data={"close-text": "Fine."})
    listing = text_of(client.get("/queries"))
    assert "Open: 1" in listing and "Closed: 1" in listing and "2 queries" in listing
    assert "1 query" in text_of(client.get("/queries?state=open"))
    assert "Visit letter?" in text_of(client.get("/queries?site=TLS"))
    assert "Visit letter?" not in text_of(client.get("/queries?site=BDX"))
    assert "Visit letter?" not in text_of(client.get("/queries?form=DM"))
    assert "1 query" in text_of(client.get("/queries?subject=bdx-001"))
    assert "0 queries" in text_of(client.get("/queries?older_than=7"))
    assert "2 queries" in text_of(client.get("/queries?mine=1"))
    for junk in ("state=bogus", "older_than=5", "older_than=x", "page=0"):
        assert client.get(f"/queries?{junk}").status_code == 404, junk


def test_the_site_sees_its_own_queries_only(client, auth, clinic):
    raise_query(client, auth)
    raise_query(client, auth, "/subjects/TLS-001/queries/new?visit=SCR", "Visit letter?")
    auth.logout()
    auth.login("staff.tls")
    listing = text_of(client.get("/queries"))
    assert "Visit letter?" in listing and "Sex as on" not in listing
    assert "1 query" in listing
    assert "Awaiting an answer" in listing
    assert client.get("/queries/1").status_code == 404


JUNK = ["", "x" * 300, "-1", "0", "1e309", "\x00", "🙂", "SCR\x00"]


@pytest.mark.parametrize("junk", JUNK)
def test_junk_in_a_query_address_is_not_found_never_a_server_error(client, auth, clinic, junk):
    raise_query(client, auth)
    for name in ("visit", "repeat", "form", "group", "row", "item"):
        args = {"visit": "SCR", "form": "DM", "item": "SEX", name: junk}
        for method in ("GET", "POST"):
            response = client.open(
                "/subjects/BDX-001/queries/new",
                method=method,
                query_string=args,
                data={"text": junk},
            )
            assert response.status_code in (200, 302, 400, 404, 422), (
                name,
                method,
                response.status_code,
            )
    for name in ("state", "form", "subject", "older_than", "site", "mine", "page"):
        assert client.get("/queries", query_string={name: junk}).status_code in (200, 400, 404), (
            name
        )


def test_queries_not_closed_flag_the_subject_page_and_the_matrix(client, auth, clinic):
    first = raise_query(client, auth)
    raise_query(client, auth, "/subjects/BDX-001/queries/new?visit=SCR", "Visit letter?")
    page = client.get("/subjects/BDX-001").get_data(as_text=True)
    assert "Queries not closed (2)" in page
    assert "1 query not closed" in page  # on the visit, and on the form
    assert ", 1 query not closed" in page
    assert "raise a query" in page
    matrix = client.get("/subjects").get_data(as_text=True)
    assert ", 2 queries not closed" in matrix
    client.post(f"/queries/{first}/close", data={"close-text": ""})
    assert ", 1 query not closed" in client.get("/subjects").get_data(as_text=True)
    auth.logout()
    auth.login("staff.bdx")  # the site sees the queries and their flags, raises none
    page = client.get("/subjects/BDX-001").get_data(as_text=True)
    assert "Queries not closed (1)" in page and "raise a query" not in page


def test_the_form_page_shows_its_queries_at_their_items_and_offers_to_raise_them(
    client, auth, clinic
):
    raise_query(client, auth)
    form = "/subjects/BDX-001/visits/SCR/1/forms/DM"
    page = text_of(client.get(form))
    assert "Queries not closed (1)" in page
    assert "Query open: Sex as on the identity card?" in page  # at the item
    assert "Raise a query on this form" in page
    html = client.get(form).get_data(as_text=True)
    assert (
        "/subjects/BDX-001/queries/new?visit=SCR&amp;repeat=1&amp;form=DM&amp;group=DM&amp;row=1&amp;item=WEIGHT"
        in html
    )
    auth.logout()
    auth.login("staff.bdx")
    page = text_of(client.get(form))
    assert "Query open: Sex as on the identity card?" in page
    assert "Raise a query" not in page and "/queries/new" not in client.get(form).get_data(
        as_text=True
    )
