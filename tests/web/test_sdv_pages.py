"""Source verification as its users meet it: a monitor verifies an item, a row, the form
and a visit from their pages; a nurse's later change shows the verification withdrawn; the
progress page counts against the plan per site and subject; a data manager sets a site's
own share there; junk never gets a 500."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.sdv.models import SitePlan, SourceVerification
from ecrf.study import subjects

FORM = "/subjects/BDX-001/visits/SCR/1/forms/DM"
LES = "/subjects/BDX-001/visits/BASE/1/forms/LES"


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
                {("DM", 1): {"SEX": "M", "WEIGHT": "70", "HEIGHT": "175"}},
                actor=None,
                expected_version=0,
            )
            save_form(
                current_study(),
                subject,
                "BASE",
                "LES",
                {("LESION", 1): {"LESID": "L1", "SUVMAX": "12"}, ("LESION", 2): {"LESID": "L2"}},
                actor=None,
                expected_version=0,
            )
        db.session.commit()
    create_user("monitor", Role.MONITOR)
    create_user("monitor.tls", Role.MONITOR, "TLS")
    create_user("staff.bdx", Role.SITE_STAFF, "BDX")
    create_user("datamanager", Role.DATA_MANAGER)


def text_of(response) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r" ([:,.?)])", r"\1", text)


def verified(app) -> list[tuple]:
    with app.app_context():
        return sorted(
            (v.group_oid, v.repeat_key, v.item_oid, v.withdrawn_at is None)
            for v in db.session.scalars(sa.select(SourceVerification))
        )


def test_a_monitor_verifies_an_item_then_the_form_and_a_nurses_change_withdraws_it(
    app, client, auth, clinic
):
    auth.login("monitor")
    page = client.get(FORM)
    assert "Not verified" in text_of(page)
    assert 'value="DM.1.SEX"' in page.get_data(as_text=True)
    response = client.post(FORM + "/verify", data={"target": "DM.1.SEX"})
    assert response.status_code == 302
    assert verified(app) == [("DM", 1, "SEX", True)]
    page = client.get(FORM, follow_redirects=False)
    assert "Partly verified: 1 of 3 values" in text_of(page)
    client.post(FORM + "/verify", data={"target": ""})
    assert "1 value" not in text_of(client.get(FORM))
    assert [v[2] for v in verified(app)] == ["HEIGHT", "SEX", "WEIGHT"]
    assert "Source verification Verified" in text_of(client.get(FORM))
    auth.logout()

    auth.login("staff.bdx")
    page = client.get(FORM)
    assert "verified" in text_of(page)
    assert 'form="sdv-verify"' not in page.get_data(as_text=True)  # no verify action for staff
    response = client.post(
        FORM, data={"version": "1", "DM-1-WEIGHT": "71", "DM-1-SEX": "M", "DM-1-HEIGHT": "175"}
    )
    assert response.status_code == 302, text_of(response)
    assert ("DM", 1, "WEIGHT", False) in verified(app)
    text = text_of(client.get(FORM))
    assert "Partly verified: 2 of 3 values" in text
    assert "Verification withdrawn by a later change (1)" in text
    assert "verified: 70.0; now: 71.0" in text or "verified: 70; now: 71" in text


def test_a_monitor_verifies_a_row_of_a_repeating_group(app, client, auth, clinic):
    auth.login("monitor")
    response = client.post(LES + "/verify", data={"target": "LESION.2"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#group-LESION")
    assert verified(app) == [("LESION", 2, "LESID", True)]
    assert "row verified" in text_of(client.get(LES))


def test_a_monitor_verifies_a_whole_visit_from_the_subjects_page(app, client, auth, clinic):
    auth.login("monitor")
    page = client.get("/subjects/BDX-001")
    assert "verify the visit" in text_of(page)
    response = client.post("/subjects/BDX-001/visits/SCR/1/verify")
    assert response.status_code == 302
    assert len(verified(app)) == 3
    text = text_of(client.get("/subjects/BDX-001"))
    assert "Source verification: 3 of 6 values verified" in text
    assert "SDV 3/3" in text


def test_verifying_again_says_so_and_writes_nothing(app, client, auth, clinic):
    auth.login("monitor")
    client.post(FORM + "/verify", data={"target": "DM.1.SEX"})
    response = client.post(FORM + "/verify", data={"target": "DM.1.SEX"}, follow_redirects=True)
    assert "Nothing verified: Everything here is verified already." in text_of(response)
    assert len(verified(app)) == 1


def test_a_monitor_of_another_site_sees_no_such_page(app, client, auth, clinic):
    auth.login("monitor.tls")
    assert client.post(FORM + "/verify", data={"target": ""}).status_code == 404
    assert client.get("/sdv?site=BDX").status_code == 404
    assert "BDX-001" not in text_of(client.get("/sdv"))
    assert verified(app) == []


@pytest.mark.parametrize(
    "target",
    [
        "DM",
        "DM.x",
        "DM.0",
        "DM.1.",
        ".1",
        "DM.1.SEX.extra",
        "NOPE.1",
        "DM.1.NOPE",
        "DM.99",
        "DM.99999999999",
        "<script>",
    ],
)
def test_a_target_that_names_nothing_is_not_found_and_writes_nothing(
    app, client, auth, clinic, target
):
    auth.login("monitor")
    response = client.post(FORM + "/verify", data={"target": target})
    assert response.status_code == 404
    assert verified(app) == []


def test_the_progress_page_counts_against_the_plan_per_site_and_subject(app, client, auth, clinic):
    auth.login("monitor")
    client.post(FORM + "/verify", data={"target": ""})
    text = text_of(client.get("/sdv"))
    # The mini study verifies every form of every subject (100 %): 6 values a subject.
    assert "BDX CHU BDX 100 % of subjects 1 of 1 6 3 (50 %) 3 0" in text or "3 (50 %)" in text
    assert "TLS-001" in text and "BDX-001" in text
    only = text_of(client.get("/sdv?site=TLS"))
    assert "TLS-001" in only and "BDX-001" not in only
    assert "Save the plan" not in only  # monitors do not set the plan


def test_a_data_manager_sets_a_sites_share_with_a_reason(app, client, auth, clinic):
    auth.login("datamanager")
    page = client.get("/sdv?site=BDX")
    assert "Save the plan" in text_of(page)
    response = client.post("/sdv/sites/BDX/plan", data={"percentage": "150", "reason": "x"})
    assert response.status_code == 422
    assert "Give a whole number from 0 to 100." in text_of(response)
    response = client.post("/sdv/sites/BDX/plan", data={"percentage": "30", "reason": ""})
    assert response.status_code == 422
    assert "Say why this site&#39;s share changes." in response.get_data(as_text=True)
    response = client.post(
        "/sdv/sites/BDX/plan", data={"percentage": "30", "reason": "Few findings so far"}
    )
    assert response.status_code == 302
    with app.app_context():
        site = get_site("BDX")
        assert db.session.get(SitePlan, site.id).percentage == 30
    text = text_of(client.get("/sdv?site=BDX"))
    assert "30 % of subjects site's own" in text
    assert "Few findings so far" in text
