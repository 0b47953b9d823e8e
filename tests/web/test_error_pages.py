"""Errors get proper pages, never a bare traceback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.auth.roles import Role
from ecrf.errors import Conflict, RuleViolation
from ecrf.extensions import db


@pytest.fixture
def failing_app(make_app):
    app = make_app()

    @app.route("/boom/<kind>")
    def boom(kind):
        if kind == "conflict":
            raise Conflict("Someone saved this form meanwhile.")
        if kind == "rule":
            raise RuleViolation("Subject is not eligible.")
        raise RuntimeError("unexpected")

    return app


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/no/such/page", 404, "There is no such page"),
        ("/boom/conflict", 409, "Someone saved this form meanwhile."),
        ("/boom/rule", 422, "Subject is not eligible."),
        ("/boom/crash", 500, "Nothing was saved"),
    ],
)
def test_error_pages_explain_what_happened(failing_app, path, status, text):
    response = failing_app.test_client().get(path)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert text in page and "<html" in page and "Traceback" not in page


def test_wrong_method_gets_a_405_page(client):
    response = client.delete("/login")
    assert response.status_code == 405 and b"Method not allowed" in response.data


def test_static_css_is_served_by_the_app_itself(client):
    response = client.get("/static/ecrf.css")
    assert response.status_code == 200 and b"--brand" in response.data
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page.split("<body")[0] and "https://" not in page.split("<body")[0]


def test_a_page_refused_by_its_permission_reads_only_who_is_signed_in(
    app, client, auth, create_user
):
    # Refused before its view ran: nothing was written, so nothing is rolled back, and the
    # refusal page shows its user (menu, name) as the sign-in read them: one statement.
    create_user("boss", Role.ADMIN)
    auth.login("boss")
    with app.app_context():
        engine = db.engine
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/subjects")  # administrators see no clinical data
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "You are not allowed to see subjects" in page
    assert 'title="Your account: Boss"' in page and 'href="/admin/users">Users<' in page
    assert len(statements) == 1, statements
