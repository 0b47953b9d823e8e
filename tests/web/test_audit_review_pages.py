"""The audit pages as their users meet them: a monitor reads the changes to critical data
since the last review, filters them, marks them reviewed (audited) and sees later changes
as new; a data manager reads the study-wide trail, filtered and a page at a time, in the
same number of queries whatever the number of subjects; bad filters get a message, never
a server error; each sees only their sites."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.review.models import ReviewMark
from ecrf.study import subjects
from tests.unit.review.conftest import CRITICAL_STUDY

DM = ("DM", 1)
JUNK = [
    "",
    " ",
    "x" * 5000,
    "'; DROP TABLE subject; --",
    "<script>",
    "١٢٣",
    "2024-02-30",
    "\x00",
    "🙂",
]


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION=CRITICAL_STUDY, PAGE_SIZE=2)


def _subject(site: str, *changes: dict) -> None:
    """A subject at ``site`` with its demographics entered, then changed by ``changes``."""
    study = current_study()
    subject = subjects.register_subject(get_site(site), actor=None)
    for version, values in enumerate(({"SEX": "M", "WEIGHT": "70"}, *changes)):
        save_form(study, subject, "SCR", "DM", {DM: values}, actor=None, expected_version=version)
    db.session.commit()


@pytest.fixture
def clinic(app, create_site, create_user):
    create_site("BDX")
    create_site("TLS")
    with app.app_context():
        _subject("BDX", {"WEIGHT": "71"}, {"WEIGHT": "72"})
        _subject("TLS", {"WEIGHT": "80"})
    create_user("monitor.bdx", Role.MONITOR, "BDX")
    create_user("monitor.tls", Role.MONITOR, "TLS")
    create_user("datamgr", Role.DATA_MANAGER)
    create_user("datamgr.bdx", Role.DATA_MANAGER, "BDX")
    create_user("admin", Role.ADMIN)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def up_to(response) -> str:
    return re.search(r'name="up_to" type="hidden" value="(\d+)"', response.get_data(as_text=True))[
        1
    ]


def test_a_monitor_marks_the_changes_reviewed_and_sees_later_ones_as_new(app, client, auth, clinic):
    auth.login("monitor.bdx")
    page = client.get("/audit/review")
    assert page.status_code == 200
    text = text_of(page)
    assert "2 new since your last review" in text
    assert "BDX-001" in text and "TLS-001" not in text
    assert "70.0" in text and "71.0" in text and "72.0" in text
    assert 'href="/audit/review"' in page.get_data(as_text=True)  # the nav
    mark = client.post(
        "/audit/review/mark",
        data={"up_to": up_to(page), "site": "", "user": "", "form": "", "item": ""},
    )
    assert mark.status_code == 302
    page = client.get(mark.headers["Location"])
    text = text_of(page)
    assert "2 change(s) marked reviewed." in text
    assert "0 new since your last review" in text and "Reviewed" in text
    assert "Nothing new to review here." in text
    with app.app_context():
        _save_weight("BDX-001", "73", version=3)
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "audit_reviewed")
        )
        assert (event.actor, event.entity) == ("monitor.bdx", "review_mark")
    text = text_of(client.get("/audit/review"))
    assert "1 new since your last review" in text and "Mark 1 new change reviewed" in text
    new_only = text_of(client.get("/audit/review?show=new"))
    assert "73.0" in new_only and "71.0" not in new_only


def _save_weight(identifier: str, weight: str, *, version: int) -> None:
    subject = subjects.get_subject(identifier)
    save_form(
        current_study(),
        subject,
        "SCR",
        "DM",
        {DM: {"WEIGHT": weight}},
        actor=None,
        expected_version=version,
    )
    db.session.commit()


def test_a_stale_or_empty_mark_is_refused_with_a_message(app, client, auth, clinic):
    auth.login("monitor.tls")
    page = client.get("/audit/review")
    assert "BDX-001" not in text_of(page)
    # Another site's changes: nothing of them is new here, nothing is written.
    refused = client.post("/audit/review/mark", data={"up_to": "999999"})
    assert refused.status_code == 422
    assert "out of date" in text_of(refused)
    refused = client.post("/audit/review/mark", data={"up_to": up_to(page), "site": "BDX"})
    assert refused.status_code == 422
    assert "You review no site BDX." in text_of(refused)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewMark)) == 0


def test_the_review_filters_and_pages(client, auth, clinic):
    auth.login("datamgr")
    first = text_of(client.get("/audit/review"))
    assert "Page 1 of 2" in first  # 3 changes, 2 a page
    by_site = text_of(client.get("/audit/review?site=TLS"))
    assert "TLS-001" in by_site and "BDX-001" not in by_site
    by_item = client.get("/audit/review?item=SEX")
    assert by_item.status_code == 200 and "No change" in text_of(by_item)
    assert "No change" in text_of(client.get("/audit/review?user=nobody"))
    second = client.get("/audit/review?page=2")
    assert second.status_code == 200
    assert client.get("/audit/review?page=0").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("site=XX", "You review no site XX."),
        ("form=LB", "LB is not one of the critical forms."),
        ("item=HGB", "The critical forms have no item HGB."),
        ("show=everything", "Choose which changes to show."),
    ],
)
def test_a_bad_review_filter_gets_a_message(client, auth, clinic, query, message):
    auth.login("monitor.bdx")
    response = client.get("/audit/review?" + query)
    assert response.status_code == 422
    assert message in text_of(response)


def test_the_trail_filters_and_pages(client, auth, clinic):
    auth.login("datamgr")
    page = client.get("/audit")
    assert page.status_code == 200
    assert 'href="/audit"' in page.get_data(as_text=True)  # the nav
    assert "Page 1 of" in text_of(page)
    subject = text_of(client.get("/audit?subject=tls-001&page=4"))
    assert "subject registered" in subject and "BDX-001" not in subject
    assert "TLS-001" in text_of(client.get("/audit?subject=tls-001"))
    by_form = text_of(client.get("/audit?form=DM&from=2000-01-01&to=2999-12-31"))
    assert "item changed" in by_form
    assert "No event." in text_of(client.get("/audit?user=nobody"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("subject=TLS-001", "No subject TLS-001 at your sites."),
        ("from=2024-02-30", "Give the first day as YYYY-MM-DD."),
        ("from=2024-05-02&to=2024-05-01", "The first day comes after the last."),
        ("form=NOPE", "The study has no form NOPE."),
    ],
)
def test_a_bad_trail_filter_gets_a_message(client, auth, clinic, query, message):
    auth.login("datamgr.bdx")
    response = client.get("/audit?" + query)
    assert response.status_code == 422
    assert message in text_of(response)


def test_junk_in_every_filter_is_never_a_server_error(client, auth, clinic):
    for username in ("datamgr", "monitor.bdx"):
        auth.login(username)
        for junk in JUNK:
            args = {
                n: junk
                for n in ("site", "user", "form", "item", "show", "subject", "from", "to", "page")
            }
            for path in ("/audit", "/audit/review"):
                assert client.get(path, query_string=args).status_code in (200, 400, 404, 422)
            data = {n: junk for n in ("up_to", "site", "user", "form", "item")}
            assert client.post("/audit/review/mark", data=data).status_code in (302, 400, 422)


def test_administrators_read_neither_page(client, auth, clinic):
    auth.login("admin")
    home = client.get("/").get_data(as_text=True)
    assert "/audit/review" not in home and 'href="/audit"' not in home
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/review").status_code == 403
    assert client.post("/audit/review/mark", data={"up_to": "1"}).status_code == 403


def count_queries(app, client, path) -> int:
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_the_pages_cost_the_same_queries_whatever_the_number_of_subjects(app, client, auth, clinic):
    auth.login("datamgr")
    before = {
        p: count_queries(app, client, p)
        for p in ("/audit", "/audit/review", "/audit?subject=BDX-001")
    }
    with app.app_context():
        for _ in range(6):
            _subject("BDX", {"WEIGHT": "75"}, {"SEX": "F", "PREG": "N"})
    after = {p: count_queries(app, client, p) for p in before}
    assert after == before
