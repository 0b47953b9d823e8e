"""The reports page: what each reader is offered."""

from __future__ import annotations

from ecrf.auth.roles import Role


def test_reports_page_offers_the_casebook_to_readers_of_reports_only(
    client, auth, create_site, create_user
):
    create_site("BDX")
    create_user("mon", Role.MONITOR, "BDX")
    create_user("staff", Role.SITE_STAFF, "BDX")
    auth.login("mon")
    page = client.get("/reports/")
    assert page.status_code == 200
    assert b"Subject casebook" in page.data
    auth.logout()
    auth.login("staff")
    page = client.get("/reports/")
    assert page.status_code == 200
    assert b"Subject casebook" not in page.data


def test_a_study_without_report_plans_offers_neither_imaging_nor_safety(app):
    from ecrf.reporting.plans import report_plan

    with app.app_context():
        assert report_plan("IMAGING") is None
        assert report_plan("SAFETY") is None
