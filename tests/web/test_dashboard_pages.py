"""The dashboard pages as their users meet them: scoped to the user's sites (a monitor of
one site sees nothing of another), counts only for the sponsor, links to the lists behind;
the monitor's visit preparation and its "record a visit" form, refusing bad dates at the
field and writing nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.dashboards.models import MonitoringVisit
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import subjects
from tests.web.bad_input import JUNK_VALUES

SERIOUS_AE = {("AE", 1): {"AENUM": "1", "AETERM": "Sepsis", "AESTDAT": "2024-05-01", "AESER": "Y"}}


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="tests.definitions.dashboards:STUDY")


@pytest.fixture
def clinic(app, create_site, create_user):
    """BDX-001 and TLS-001, each with a serious AE not reported; the users."""
    create_site("BDX")
    create_site("TLS")
    with app.app_context():
        for code in ("BDX", "TLS"):
            subject = subjects.register_subject(get_site(code), actor=None)
            save_form(
                current_study(), subject, "LOGS", "AE", SERIOUS_AE, actor=None, expected_version=0
            )
        db.session.commit()
    create_user("mon.bdx", Role.MONITOR, "BDX")
    create_user("mon.all", Role.MONITOR)
    create_user("staff.bdx", Role.SITE_STAFF, "BDX")
    create_user("sponsor", Role.SPONSOR)
    create_user("data.manager", Role.DATA_MANAGER)


def text_of(response) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r" ([:,.?])", r"\1", text)


def test_a_monitor_of_one_site_is_sent_to_its_dashboard_and_sees_nothing_of_another(
    client, auth, clinic
):
    auth.login("mon.bdx")
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sites/BDX/dashboard")
    page = client.get("/sites/BDX/dashboard")
    assert page.status_code == 200
    text = text_of(page)
    assert "BDX-001" in text and "TLS" not in text
    assert "SAE reports due: 1" in text
    # Another site answers like a missing one, by address and by filter.
    assert client.get("/sites/TLS/dashboard").status_code == 404
    assert client.get("/sites/NOPE/dashboard").status_code == 404
    assert client.get("/dashboard?site=TLS").status_code == 404


def test_the_study_dashboard_has_a_row_per_site_and_a_site_filter(client, auth, clinic):
    auth.login("data.manager")
    page = client.get("/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/sites/BDX/dashboard"' in html and 'href="/sites/TLS/dashboard"' in html
    text = text_of(page)
    assert "BDX-001" in text and "TLS-001" in text
    assert "SAE reports due: 2" in text
    assert "0 included of a target of 4 (0 %)" in text
    filtered = client.get("/dashboard?site=tls")
    assert filtered.status_code == 302
    assert filtered.headers["Location"].endswith("/sites/TLS/dashboard")


def test_the_sponsor_sees_counts_and_no_subject_identifier(client, auth, clinic):
    auth.login("sponsor")
    page = client.get("/dashboard")
    assert page.status_code == 200
    text = text_of(page)
    assert "SAE reports due: 2" in text
    assert "Counts only" in text
    assert "BDX-001" not in text and "TLS-001" not in text
    assert "/subjects/" not in page.get_data(as_text=True)
    site = client.get("/sites/BDX/dashboard")
    assert "BDX-001" not in text_of(site)


def test_the_query_figures_link_to_the_query_list_filtered(app, client, auth, clinic):
    from ecrf.queries import services as queries
    from ecrf.queries.services import QueryTarget

    with app.app_context():
        subject = subjects.get_subject("BDX-001")
        queries.open_query(current_study(), subject, QueryTarget("LOGS"), "Date?", actor=None)
        db.session.commit()
    auth.login("data.manager")
    html = client.get("/dashboard").get_data(as_text=True)
    # The site table's figure opens the site's queries; no query at TLS: a plain 0.
    assert re.search(r'<a href="/queries\?site=BDX">\s*1\s*</a>', html)
    assert not re.search(r'<a href="/queries\?site=TLS">\s*0', html)


def test_the_monitor_prepares_a_visit_and_records_it(app, client, auth, clinic):
    auth.login("mon.bdx")
    page = client.get("/sites/BDX/visit-prep")
    assert page.status_code == 200
    assert "No monitoring visit recorded yet" in text_of(page)
    day = (utcnow().date() - timedelta(days=1)).isoformat()
    done = client.post("/sites/BDX/monitoring-visits", data={"visit_date": day})
    assert done.status_code == 302
    after = text_of(client.get(done.headers["Location"]))
    assert f"Monitoring visit of {day} recorded." in after
    assert f"Last monitoring visit {day} by Mon.Bdx" in after
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringVisit)) == 1


def test_the_visit_preparation_is_for_the_sites_monitors_only(client, auth, clinic):
    auth.login("mon.bdx")
    assert client.get("/sites/TLS/visit-prep").status_code == 404
    assert (
        client.post("/sites/TLS/monitoring-visits", data={"visit_date": "2024-01-01"}).status_code
        == 404
    )
    auth.logout()
    auth.login("staff.bdx")
    assert client.get("/sites/BDX/visit-prep").status_code == 403
    auth.logout()
    auth.login("mon.all")
    assert client.get("/sites/TLS/visit-prep").status_code == 200


#: NUL is refused before any view (400, ecrf/errors.py); everything else reaches the form.
@pytest.mark.parametrize("junk", [*(j for j in JUNK_VALUES if "\x00" not in j), "2999-01-01"])
def test_a_bad_visit_date_is_refused_at_the_field_and_nothing_is_written(
    app, client, auth, clinic, junk
):
    auth.login("mon.bdx")
    response = client.post("/sites/BDX/monitoring-visits", data={"visit_date": junk})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="visit_date-error"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringVisit)) == 0


@pytest.mark.parametrize("junk", JUNK_VALUES)
def test_junk_in_the_site_filter_is_not_found(client, auth, clinic, junk):
    auth.login("data.manager")
    response = client.get("/dashboard", query_string={"site": junk})
    assert response.status_code in (200, 400, 404)
