"""Missing-data codes are offered, hinted and accepted only where the item allows them:
on the page (the list of a choice, the hint of a typed item) and on the server."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import sqlalchemy as sa

from ecrf.auth.roles import Role
from ecrf.crf.save.outcome import ValidationFailed
from ecrf.crf.services import save_form
from ecrf.crf.web_forms import _field_for
from ecrf.extensions import db
from ecrf.records import fields
from ecrf.records.loader import current_study
from ecrf.records.models import ItemValue
from ecrf.study import subjects
from tests.conftest import PASSWORD


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def ward(app, create_site, create_user, create_subject):
    create_site("BDX")
    create_subject("BDX")
    create_user("anna", Role.SITE_STAFF, "BDX")


def item(form: str, oid: str):
    return current_study().item(form, oid)[1]


def test_codes_an_item_accepts(app_ctx):
    study = current_study()
    assert fields.missing_codes_for(item("LVEF", "LVEF")) == ["NA", "ND", "UNK", "NASK"]
    assert fields.missing_codes_for(item("TUBL", "LESID")) == []  # refused by the definition
    assert fields.missing_codes_for(item("TUBL", "CTDAT")) == []
    assert fields.missing_codes_for(item("TUBL", "SUMDIAM")) == []  # derived
    pregnancy = item("LUADM", "PREGPRE")  # "NA" is one of its answers
    assert fields.missing_codes_for(pregnancy, study.codelist_for(pregnancy)) == [
        "ND",
        "UNK",
        "NASK",
    ]


def test_a_choice_lists_missing_codes_only_where_allowed(app_ctx):
    study = current_study()
    method = item("LVEF", "LVEFMETH")
    allowed = _field_for(study, method).kwargs["choices"]
    assert ("ND", "Not done (ND)") in allowed
    refused = _field_for(study, replace(method, missing_allowed=False)).kwargs["choices"]
    assert not {code for code, _ in refused} & {"NA", "ND", "UNK", "NASK"}


def test_a_typed_item_hints_its_codes_only_where_allowed(client, ward):
    client.post("/login", data={"username": "anna", "password": PASSWORD})
    page = client.get("/subjects/BDX-001/visits/SCR/1/forms/TUBL").get_data(as_text=True)
    ct = re.search(r'<input[^>]*id="IMG-1-CTDAT"[^>]*>', page).group(0)
    assert "missing-data code" not in ct
    lvef = client.get("/subjects/BDX-001/visits/SCR/1/forms/LVEF").get_data(as_text=True)
    value = re.search(r'<input[^>]*id="LVEF-1-LVEF"[^>]*>', lvef).group(0)
    assert 'title="No value to give? Type a missing-data code: NA, ND, UNK, NASK."' in value


def test_the_server_refuses_a_code_where_the_item_does_not_allow_it(app, ward):
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            save_form(
                current_study(),
                subjects.get_subject("BDX-001"),
                "SCR",
                "TUBL",
                {("IMG", 1): {"CTDAT": "ND", "MRIDAT": "2025-01-08"}},
                actor=None,
                expected_version=0,
            )
        (issue,) = refused.value.issues
        assert (issue.item_oid, issue.message) == (
            "CTDAT",
            "Give the value: a missing-data code is not accepted.",
        )
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ItemValue)) == 0


def test_the_required_message_names_only_the_codes_the_item_takes(app, ward):
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            save_form(
                current_study(),
                subjects.get_subject("BDX-001"),
                "SCR",
                "TUBL",
                {("IMG", 1): {"CTDAT": "2025-01-06"}},
                actor=None,
                expected_version=0,
                complete=True,
            )
        messages = {i.item_oid: i.message for i in refused.value.issues}
        assert messages["MRIDAT"] == "Required to complete the form."
        assert messages["LESYN"] == (
            "Required to complete the form (or a missing-data code: NA, ND, UNK, NASK)."
        )
