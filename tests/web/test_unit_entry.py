"""The form page of a value with several units: the list of units beside it, the value
and unit shown as entered, and a save over someone else's keeping their unit."""

from __future__ import annotations

import re

import pytest

from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.study import subjects
from tests.conftest import PASSWORD

FORM = "/subjects/BDX-001/visits/SCR/1/forms/LBHEM"


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def ward(app, create_site, create_user, create_subject):
    create_site("BDX")
    create_subject("BDX")
    create_user("anna", Role.SITE_STAFF, "BDX")


def sign_in(client, username: str) -> None:
    client.post("/login", data={"username": username, "password": PASSWORD})


def selected(page: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    option = re.search(r'<option selected value="([^"]*)"', select.group(1))
    return option.group(1) if option else None


def save_elsewhere(app, rows: dict, version: int) -> None:
    with app.app_context():
        save_form(
            current_study(),
            subjects.get_subject("BDX-001"),
            "SCR",
            "LBHEM",
            rows,
            actor=None,
            expected_version=version,
        )
        db.session.commit()


def test_the_page_shows_the_value_and_unit_as_entered(client, app, ward):
    save_elsewhere(app, {("LBHEM", 1): {"HGB": "125", "HGB.unit": "g/L", "HGBLLN": "120"}}, 0)
    sign_in(client, "anna")
    page = client.get(FORM).get_data(as_text=True)
    assert re.search(r'id="LBHEM-1-HGB"[^>]*value="125"', page)
    assert selected(page, "LBHEM-1-HGB-unit") == "g/L"
    assert 'aria-label="Unit of Haemoglobin"' in page
    assert re.search(r'id="LBHEM-1-HGBLLN"[^>]*value="120"', page)
    assert "in the unit of haemoglobin" in page
    assert selected(page, "LBHEM-1-NEUT-unit") == "/mm3"  # nothing stored: the standard


def test_a_save_over_someone_elses_takes_their_value_and_unit_where_untouched(client, app, ward):
    sign_in(client, "anna")
    client.get(FORM)
    save_elsewhere(app, {("LBHEM", 1): {"HGB": "125", "HGB.unit": "g/L"}}, 0)
    response = client.post(
        FORM,
        data={
            "version": "0",
            "LBHEM-1-LBDAT": "2025-01-08",
            "LBHEM-1-HGB": "",
            "LBHEM-1-HGB-unit": "",
            "LBHEM-1-NEUT": "3.2",
            "LBHEM-1-NEUT-unit": "10*9/L",
        },
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert re.search(r'id="LBHEM-1-HGB"[^>]*value="125"', page)
    assert selected(page, "LBHEM-1-HGB-unit") == "g/L"
    assert re.search(r'id="LBHEM-1-NEUT"[^>]*value="3.2"', page)
    assert selected(page, "LBHEM-1-NEUT-unit") == "10*9/L"
