"""The pages that list subjects or their data run a fixed number of SQL statements: the
subject matrix, the subject page, the query list and the dashboards cost the same whether
the trial has a few subjects or many, and whether a subject holds little data or much (no
statement per subject, per form, per query or per message)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import subjects

#: The pages each user opens; the site staff's study dashboard is their site's.
PAGES = {
    "monitor": ("/subjects", "/subjects/BDX-001", "/queries", "/dashboard"),
    "staff.bdx": ("/subjects", "/subjects/BDX-001", "/queries", "/sites/BDX/dashboard"),
}


@pytest.fixture
def app(make_app):
    # A page of 5 subjects: "many" fills more than one page, so paging is counted too.
    return make_app(STUDY_DEFINITION="tests.definitions.dashboards:STUDY", PAGE_SIZE=5)


@pytest.fixture
def clinic(app, create_site, create_user):
    create_site("BDX")
    create_site("TLS")
    create_user("monitor", Role.MONITOR)
    create_user("staff.bdx", Role.SITE_STAFF, "BDX")


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def add_subjects(app, count: int) -> None:
    """``count`` subjects at each site, enrolled 60 days ago in the therapy sub-group (so
    their visits are due or overdue), a demography form and a query each."""
    d0 = (utcnow().date() - timedelta(days=60)).isoformat()
    with app.app_context():
        study = current_study()
        for code in ("BDX", "TLS"):
            for _ in range(count):
                subject = subjects.register_subject(get_site(code), actor=None)
                for visit, form, values in (
                    ("SCR", "ENR", {"D0PLAN": d0, "THERAPY": "Y"}),
                    ("SCR", "DM", {"SEX": "F"}),
                ):
                    save_form(
                        study,
                        subject,
                        visit,
                        form,
                        {(form, 1): values},
                        actor=None,
                        expected_version=0,
                    )
                target = QueryTarget("SCR", 1, "DM", "DM", 1, "SEX")
                queries.open_query(study, subject, target, "Sex as on the ID card?", actor=None)
        db.session.commit()


def enrich(app, identifier: str) -> None:
    """Much more data for one subject: laboratory values, adverse events (one serious),
    and queries on several forms answered by the site, one closed."""
    with app.app_context():
        study = current_study()
        subject = subjects.get_subject(identifier)
        monitor, staff = _user("monitor"), _user("staff.bdx")
        save_form(
            study,
            subject,
            "SCR",
            "LB",
            {("LB", 1): {"HGB": "13.2"}},
            actor=None,
            expected_version=0,
        )
        events = {
            ("AE", n): {"AENUM": str(n), "AETERM": term, "AESTDAT": "2024-05-01", "AESER": ser}
            for n, (term, ser) in enumerate((("Nausea", "N"), ("Sepsis", "Y"), ("Rash", "N")), 1)
        }
        save_form(study, subject, "LOGS", "AE", events, actor=None, expected_version=0)
        for n, target in enumerate(
            (
                QueryTarget("SCR", 1, "ENR"),
                QueryTarget("SCR", 1, "LB", "LB", 1, "HGB"),
                QueryTarget("LOGS", 1, "AE", "AE", 2),
                QueryTarget("SCR"),
            )
        ):
            query = queries.open_query(
                study, subject, target, f"Please check ({n})?", actor=monitor
            )
            queries.answer_query(query, "Checked against the source.", actor=staff)
            if n == 0:
                queries.close_query(query, "Thank you.", actor=monitor)
        db.session.commit()


@contextmanager
def counting(app) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def statements(app, client, pages) -> dict[str, Counter[str]]:
    """The statements each page runs, by their text (parameters apart)."""
    counted = {}
    for path in pages:
        with counting(app) as seen:
            response = client.get(path)
        assert response.status_code == 200, path
        # "IN (?, ?, ...)" lists grow with the page's ids: one statement all the same.
        counted[path] = Counter(_shape(s) for s in seen)
    return counted


def _shape(statement: str) -> str:
    """The statement with its placeholders (SQLite's ?, psycopg's %(name)s::TYPE) as ? and
    each list of them as one."""
    statement = re.sub(r"%\(\w+\)s(?:::[A-Z ]+(?:\(\d+\))?)?", "?", statement)
    return re.sub(r"\((?:\?, )*\?\)", "(...)", statement)


def repeated(more: dict[str, Counter[str]], base: dict[str, Counter[str]]) -> dict[str, list]:
    """The statements a page runs more often than in ``base``, and how many more times."""
    grown = {path: sorted((more[path] - base[path]).items()) for path in base}
    return {path: found for path, found in grown.items() if found}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_each_page_runs_as_many_statements_for_many_subjects_rich_in_data_as_for_few(
    app, client, auth, clinic, username
):
    pages = PAGES[username]
    add_subjects(app, 2)
    # Every kind of data present from the start (a statement that runs once when a
    # section has rows to show is fine); then more of it, and more subjects.
    enrich(app, "BDX-002")
    auth.login(username)
    statements(app, client, pages)  # what a first request reads once (the definition)
    few = statements(app, client, pages)

    add_subjects(app, 8)
    many = statements(app, client, pages)
    enrich(app, "BDX-001")
    enrich(app, "BDX-003")
    rich = statements(app, client, pages)

    assert repeated(many, few) == {}
    assert repeated(rich, few) == {}
    assert {p: sum(c.values()) for p, c in rich.items()} == {
        p: sum(c.values()) for p, c in few.items()
    }
    matrix = client.get("/subjects").get_data(as_text=True)
    assert "BDX-005" in matrix and "BDX-006" not in matrix  # one page of 5 (site, number)
