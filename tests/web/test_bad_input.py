"""Bad input never gets a 500: numbers beyond what a column holds, in addresses and forms, and
dates outside the calendar are refused and write nothing. (Junk on every route, as each user:
tests/web/test_bad_input_*.py.)"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from ecrf.extensions import db
from tests.web.bad_input import create_world


@pytest.fixture
def world(app, create_site, create_user, create_subject):
    create_world(app, create_site, create_user, create_subject)


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


def test_a_nul_in_the_second_value_of_a_repeated_field_or_argument_is_refused(
    app, client, auth, world
):
    auth.login("alice")
    before = trail_and_rows(app)
    form = "/subjects/BDX-001/visits/SCR/1/forms/DM"
    posted = MultiDict([("version", "1"), ("DM-1-WEIGHT", "72"), ("DM-1-WEIGHT", "7\x002")])
    assert client.post(form, data=posted).status_code == 400
    assert (
        client.get(
            "/subjects", query_string=MultiDict([("site", "BDX"), ("site", "\x00")])
        ).status_code
        == 400
    )
    assert trail_and_rows(app) == before
