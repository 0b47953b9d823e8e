"""The history pages of a form and of one value show what the form shows: labels of
codes, Yes/No, units and the words of a missing-data code, never the stored codes."""

from __future__ import annotations

import pytest

from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.study import subjects
from tests.conftest import PASSWORD

FORM = "/subjects/BDX-001/visits/SCR/1/forms/LVEF"


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def history(app, create_site, create_user, create_subject):
    """An LVEF entered by echocardiography, then marked not done."""
    create_site("BDX")
    create_subject("BDX")
    create_user("anna", Role.SITE_STAFF, "BDX")
    with app.app_context():
        for version, values in enumerate(
            (
                {"LVEFDAT": "2025-01-08", "LVEFMETH": "ECHO", "LVEF": "62"},
                {"LVEFDAT": "2025-01-08", "LVEFMETH": "ECHO", "LVEF": "ND"},
            )
        ):
            save_form(
                current_study(),
                subjects.get_subject("BDX-001"),
                "SCR",
                "LVEF",
                {("LVEF", 1): values},
                actor=None,
                expected_version=version,
            )
        db.session.commit()


def page(client, url: str) -> str:
    client.post("/login", data={"username": "anna", "password": PASSWORD})
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_form_history_shows_labels_and_units(client, history):
    text = page(client, FORM + "/history")
    assert "Transthoracic echocardiography" in text
    assert "62 %" in text
    assert "Not done (ND)" in text
    assert ">ECHO<" not in text and "[ND]" not in text


def test_the_history_of_one_value_shows_the_missing_data_code_in_words(client, history):
    text = page(client, FORM + "/history?field=LVEF[1].LVEF")
    assert "62 %" in text and "Not done (ND)" in text
    assert "[ND]" not in text
