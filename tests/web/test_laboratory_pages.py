"""The laboratory registry's pages: a data manager declares a laboratory and its ranges,
refusals at their field, a correction with its reason; the lab form offers the site's
laboratories and embeds their ranges for the page to fill."""

from __future__ import annotations

import json
import re

import pytest

from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.laboratories.models import Laboratory, ReferenceRange
from tests.conftest import PASSWORD


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def ward(app, create_site, create_user, create_subject):
    create_site("BDX")
    create_site("TLS")
    create_subject("BDX")
    create_user("dm.bdx", Role.DATA_MANAGER, "BDX")
    create_user("anna", Role.SITE_STAFF, "BDX")


def sign_in(client, username: str) -> None:
    client.post("/login", data={"username": username, "password": PASSWORD})


def add_laboratory(client, site_id: int = 1, name: str = "CHU Bordeaux – Biologie"):
    return client.post("/admin/laboratories", data={"site": str(site_id), "name": name})


RANGE = {"testcd": "NEUT", "unit": "10*9/L", "low": "1,8", "valid_from": "2024-01-01"}


def test_a_data_manager_declares_a_laboratory_and_a_range(app, client, ward):
    sign_in(client, "dm.bdx")
    page = client.get("/admin/laboratories").get_data(as_text=True)
    # only the sites the data manager manages are offered
    assert "BDX – Hospital BDX" in page and "TLS – Hospital TLS" not in page
    assert add_laboratory(client).status_code == 302
    assert client.post("/admin/laboratories/1", data=RANGE).status_code == 302
    with app.app_context():
        (reference,) = db.session.query(ReferenceRange).all()
        assert (reference.testcd, reference.unit, reference.low_text) == ("NEUT", "10*9/L", "1.8")
    page = client.get("/admin/laboratories/1").get_data(as_text=True)
    assert "Neutrophils" in page and "G/L" in page


def test_a_laboratory_at_a_site_not_managed_is_refused(app, client, ward):
    sign_in(client, "dm.bdx")
    response = add_laboratory(client, site_id=2)
    assert response.status_code == 422  # not a choice offered
    with app.app_context():
        assert db.session.query(Laboratory).count() == 0


def test_a_refused_range_is_shown_at_its_field(app, client, ward):
    sign_in(client, "dm.bdx")
    add_laboratory(client)
    response = client.post("/admin/laboratories/1", data=RANGE | {"high": "1.8"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="high-error" class="error">The lower limit must be below', page)


def test_a_correction_needs_its_reason(app, client, ward):
    sign_in(client, "dm.bdx")
    add_laboratory(client)
    client.post("/admin/laboratories/1", data=RANGE)
    refused = client.post("/admin/laboratories/1/ranges/1", data=RANGE | {"low": "1.5"})
    assert refused.status_code == 422
    assert "Give the reason for the change." in refused.get_data(as_text=True)
    saved = client.post(
        "/admin/laboratories/1/ranges/1", data=RANGE | {"low": "1.5", "reason": "Typo"}
    )
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(ReferenceRange, 1).low_text == "1.5"


def test_the_lab_form_offers_the_sites_laboratories_and_their_ranges(app, client, ward):
    sign_in(client, "dm.bdx")
    add_laboratory(client)
    client.post("/admin/laboratories/1", data=RANGE)
    client.post("/logout")
    sign_in(client, "anna")
    page = client.get("/subjects/BDX-001/visits/SCR/1/forms/LBHEM").get_data(as_text=True)
    assert re.search(r'<select[^>]*name="LBHEM-1-LBNAM"', page)
    assert '<option value="CHU Bordeaux – Biologie">' in page
    blob = re.search(r'<script type="application/json" id="lab-registry">(.*?)</script>', page)
    registry = json.loads(blob.group(1))
    assert registry["labs"]["CHU Bordeaux – Biologie"][0]["low"] == "1.8"
    assert registry["rows"][0]["analytes"]["NEUT"] == {
        "unit": "LBHEM-1-NEUT-unit",
        "low": "LBHEM-1-NEUTLLN",
        "high": None,
    }


LABORATORY_LABEL = re.compile(
    r'<label for="LBHEM-1-LBNAM">Laboratory( <span class="req"[^>]*>\*</span>)?</label>'
)


def test_the_laboratory_is_starred_as_needed_only_where_the_site_declares_laboratories(
    app, client, ward
):
    sign_in(client, "anna")
    page = client.get("/subjects/BDX-001/visits/SCR/1/forms/LBHEM").get_data(as_text=True)
    assert LABORATORY_LABEL.search(page).group(1) is None  # none declared: the name is typed
    client.post("/logout")
    sign_in(client, "dm.bdx")
    add_laboratory(client)
    client.post("/logout")
    sign_in(client, "anna")
    page = client.get("/subjects/BDX-001/visits/SCR/1/forms/LBHEM").get_data(as_text=True)
    assert LABORATORY_LABEL.search(page).group(1) is not None
