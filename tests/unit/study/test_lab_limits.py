"""No silent safety gap in the real IAH-PRRT trial: a graded lab value without the
laboratory limit its CTCAE grade needs cannot be marked complete; the refusal is at the
limit's field. A draft may wait for it."""

from __future__ import annotations

from datetime import date

import pytest

from ecrf.crf import services
from ecrf.crf.services import ValidationFailed
from ecrf.extensions import db
from ecrf.records.models import FormEntry
from forms.iahprrt.labs import LBCHEM, LBHEM
from tests.capture import count, entry_of, last_seq, value
from tests.iahprrt_patient import save_screening, screening

CONSENT = date(2025, 1, 6)

#: (form, value item, limit item, message) for every graded value.
GRADED = [
    ("LBHEM", "HGB", "HGBLLN", "lower", "Haemoglobin"),
    ("LBHEM", "WBC", "WBCLLN", "lower", "Leucocytes"),
    ("LBHEM", "NEUT", "NEUTLLN", "lower", "Neutrophils"),
    ("LBHEM", "LYM", "LYMLLN", "lower", "Lymphocytes"),
    ("LBHEM", "PLAT", "PLATLLN", "lower", "Platelets"),
    ("LBCHEM", "CREAT", "CREATULN", "upper", "creatinine"),
    ("LBCHEM", "ALT", "ALTULN", "upper", "ALT (alanine aminotransferase)"),
    ("LBCHEM", "AST", "ASTULN", "upper", "AST (aspartate aminotransferase)"),
    ("LBCHEM", "BILI", "BILIULN", "upper", "Total bilirubin"),
    ("LBCHEM", "ALP", "ALPULN", "upper", "Alkaline phosphatase"),
    ("LBCHEM", "GGT", "GGTULN", "upper", "Gamma-glutamyl transferase"),
    ("LBCHEM", "ALB", "ALBLLN", "lower", "Albumin"),
]


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def consented(study, subject, staff):
    save_screening(study, subject, staff, CONSENT, forms=("IC",))
    return subject


def lab_entries(form_oid: str) -> dict:
    """The test patient's complete screening sample of ``form_oid``, every limit given."""
    return screening(CONSENT)[form_oid]


def test_every_graded_value_of_the_definition_is_listed_here():
    """A graded value added to the forms must be added to GRADED (and so be tested)."""
    graded = {
        (form.oid, derivation.target.removesuffix("GR"))
        for form in (LBHEM, LBCHEM)
        for derivation in form.derivations
        if derivation.target.endswith("GR")
    }
    assert graded == {(form, item) for form, item, *_ in GRADED}


@pytest.mark.parametrize(("form_oid", "item", "limit", "which", "label"), GRADED)
def test_a_graded_value_without_its_limit_cannot_be_completed(
    study, consented, staff, form_oid, item, limit, which, label
):
    entries = lab_entries(form_oid)
    entries[(form_oid, 1)][limit] = ""
    before = (last_seq(), count(FormEntry))
    with pytest.raises(ValidationFailed) as refused:
        services.save_form(
            study,
            consented,
            "SCR",
            form_oid,
            entries,
            actor=staff,
            expected_version=0,
            complete=True,
        )
    db.session.rollback()
    assert (last_seq(), count(FormEntry)) == before
    errors = [(i.group_oid, i.item_oid, i.message) for i in refused.value.issues]
    assert errors == [
        (
            form_oid,
            limit,
            f"Give the laboratory's {which} limit of normal: the CTCAE grade of {label} needs it.",
        )
    ]


@pytest.mark.parametrize(("form_oid", "limit"), [("LBHEM", "HGBLLN"), ("LBCHEM", "ALTULN")])
def test_a_missing_data_code_is_no_limit(study, consented, staff, form_oid, limit):
    entries = lab_entries(form_oid)
    entries[(form_oid, 1)][limit] = "ND"
    with pytest.raises(ValidationFailed) as refused:
        services.save_form(
            study,
            consented,
            "SCR",
            form_oid,
            entries,
            actor=staff,
            expected_version=0,
            complete=True,
        )
    db.session.rollback()
    assert [(i.item_oid, i.message) for i in refused.value.issues] == [
        (limit, "Give the value: a missing-data code is not accepted.")
    ]


def test_a_draft_may_wait_for_the_limit_and_the_grade_follows_it(study, consented, staff):
    entries = lab_entries("LBCHEM")
    row = entries[("LBCHEM", 1)]
    row["ALT"], row["ALTULN"] = "250", ""
    result = services.save_form(
        study, consented, "SCR", "LBCHEM", entries, actor=staff, expected_version=0
    )
    db.session.commit()
    assert value(study, consented, "SCR.LBCHEM.ALTGR") is None  # not computable yet

    services.save_form(
        study,
        consented,
        "SCR",
        "LBCHEM",
        {("LBCHEM", 1): {"ALTULN": "40"}},
        actor=staff,
        expected_version=result.entry.version,
        complete=True,
    )
    db.session.commit()
    assert value(study, consented, "SCR.LBCHEM.ALTGR") == 3  # 6.25 × ULN
    assert entry_of(consented, "SCR", "LBCHEM").status.value == "complete"


def test_a_value_not_done_needs_no_limit(study, consented, staff):
    entries = lab_entries("LBHEM")
    entries[("LBHEM", 1)] |= {"LYM": "ND", "LYMLLN": ""}
    services.save_form(
        study, consented, "SCR", "LBHEM", entries, actor=staff, expected_version=0, complete=True
    )
    db.session.commit()
    assert value(study, consented, "SCR.LBHEM.LYMGR") is None
