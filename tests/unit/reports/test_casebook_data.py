"""The casebook's data: values as people read them with their codes and units, missing-data
codes, items not asked, derived values with their inputs, removed rows with their reason,
and the subject's trail with every change, its old and new value and its reason."""

from __future__ import annotations

import pytest

from ecrf.crf import services
from ecrf.extensions import db
from ecrf.reporting.casebook import COLUMNS_PER_TABLE, NOT_ASKED, _table, build_casebook
from forms.language import DataType, Item, ItemGroup
from tests.capture import entry_of


def lesion(n: int, suvmax: str) -> dict:
    return {"LESID": f"L{n}", "ORGAN": "LIVER", "SUVMAX": suvmax, "SUVMEAN": "2.00"}


@pytest.fixture
def documented(study, subject, save, staff):
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2026-01-05"}}, complete=True)
    demographics = {
        "BRTHYM": "1960-04",
        "SEX": "M",
        "WEIGHT": "70.0",
        "HEIGHT": "175",
        "SYMPT": "UNK",
        "NOTE": "none",
    }
    save(subject, "SCR", "DM", {("DM", 1): demographics}, complete=True)
    save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "72.0"}}, reason="Scale misread")
    save(subject, "BASE", "LES", {("ORG", 1): {"LIVSUV": "2.50"}})
    save(subject, "BASE", "LES", {("LESION", 1): lesion(1, "10"), ("LESION", 2): lesion(2, "7")})
    entry = entry_of(subject, "BASE", "LES")
    services.remove_row(
        study,
        subject,
        "BASE",
        "LES",
        "LESION",
        2,
        actor=staff,
        reason="Same lesion as L1",
        expected_version=entry.version,
    )
    db.session.commit()
    return build_casebook(study, subject, actor=staff)


def _form(casebook, visit_oid: str, form_oid: str) -> dict:
    visit = next(v for v in casebook["visits"] if v["oid"] == visit_oid)
    return next(f for f in visit["forms"] if f["oid"] == form_oid)


def _fields(form: dict) -> dict[str, dict]:
    return {
        f["oid"]: f for group in form["groups"] if not group["repeating"] for f in group["fields"]
    }


def test_values_read_as_labels_with_their_code_unit_and_missing_data_code(documented, staff):
    form = _form(documented, "SCR", "DM")
    assert (form["status"], form["saves"], form["updated_by"]) == ("Complete", 2, staff.username)
    fields = _fields(form)
    assert (fields["SEX"]["text"], fields["SEX"]["code"]) == ("Male", "M")
    assert (fields["WEIGHT"]["text"], fields["WEIGHT"]["units"]) == ("72.0", "kg")
    assert fields["SYMPT"]["missing"] == "UNK — Unknown" and fields["SYMPT"]["text"] == ""
    assert fields["PREG"]["text"] == NOT_ASKED and fields["PREG"]["not_asked"]
    assert fields["HEIGHT"]["code"] is None  # a number has no code behind it


def test_a_derived_value_carries_its_inputs_and_its_numbered_formula(documented):
    bmi = _fields(_form(documented, "SCR", "DM"))["BMI"]
    assert bmi["derived"] and bmi["text"] == "23.5"
    assert ("Weight", "72.0 kg") in bmi["inputs"] and ("Height", "175 cm") in bmi["inputs"]
    (listed,) = [d for d in documented["derivations"] if d["number"] == bmi["derivation"]]
    assert (listed["form"], listed["oid"]) == ("Demographics", "BMI")
    assert listed["formula"] == "weight / (height in m)²"
    assert listed["inputs"] == ["Weight", "Height"]
    # Every derivation of a printed form is listed once, in the definition's order.
    numbers = [d["number"] for d in documented["derivations"]]
    assert numbers == sorted(set(numbers))


def test_a_removed_row_is_printed_struck_with_its_reason(documented):
    form = _form(documented, "BASE", "LES")
    table = next(g for g in form["groups"] if g["oid"] == "LESION")
    assert [(r["key"], r["removed"], r["removed_reason"]) for r in table["rows"]] == [
        (1, False, None),
        (2, True, "Same lesion as L1"),
    ]
    assert [c["text"] for c in table["rows"][0]["cells"][:2]] == ["L1", "Liver"]
    # The derived column names its derivation, listed with the inputs it reads.
    (ratio,) = [c for c in table["columns"] if c["derived"]]
    (listed,) = [d for d in documented["derivations"] if d["number"] == ratio["derivation"]]
    assert listed["item"] == "Tumour/liver ratio" and "Healthy liver SUVmean" in listed["inputs"]


def test_the_trail_shows_each_change_with_old_new_and_reason(documented):
    trail = documented["trail"]
    changed = [e for e in trail if e["action"] == "Value changed"]
    assert [(e["old"], e["new"], e["reason"]) for e in changed] == [
        ("70.0 kg", "72.0 kg", "Scale misread")  # as the form shows them
    ]
    assert changed[0]["where"] == "SCR · Demographics · Weight (WEIGHT)"
    removed = [e for e in trail if e["action"] == "Row removed"]
    assert removed[0]["where"] == "BASE · PET lesions · Lesions, row 2"
    assert removed[0]["reason"] == "Same lesion as L1"
    first = [e for e in trail if e["action"] == "First entries" and "Demographics" in e["where"]]
    assert first and "SEX" in first[0]["new"] and "BMI*" in first[0]["new"]
    assert [e["seq"] for e in trail] == sorted(e["seq"] for e in trail)


def test_the_cover_and_status_history_say_who_registered_the_subject(documented, subject, staff):
    assert documented["subject"]["identifier"] == subject.identifier
    assert documented["subject"]["registered_by"] == staff.username
    assert documented["status_history"][0]["new"] == "Screening"
    assert documented["signatures"] == []
    assert all(f["queries"] == [] for v in documented["visits"] for f in v["forms"])


def test_a_wide_group_continues_in_tables_that_repeat_its_identifying_first_item(study):
    items = tuple(Item(f"I{n}", f"Item {n}", DataType.TEXT) for n in range(15))
    wide = ItemGroup("G", "Wide", items, repeating=True)
    table = _table(study, study.forms["LES"], wide, {}, {})
    assert table["chunks"] == [
        [0, 1, 2, 3, 4, 5, 6],
        [0, 7, 8, 9, 10, 11, 12],
        [0, 13, 14],
    ]
    assert all(len(chunk) <= COLUMNS_PER_TABLE for chunk in table["chunks"])


def test_every_query_is_printed_at_its_form_or_visit_with_its_thread(
    documented, study, subject, monitor, staff
):
    from ecrf.queries.services import QueryTarget, answer_query, close_query, open_query

    on_item = open_query(
        study,
        subject,
        QueryTarget("SCR", form_oid="DM", group_oid="DM", repeat_key=1, item_oid="WEIGHT"),
        "Weight on the source is 71 kg.",
        actor=monitor,
    )
    answer_query(on_item, "Corrected from the nurse's sheet.", actor=staff)
    close_query(on_item, actor=monitor)
    on_row = open_query(
        study,
        subject,
        QueryTarget("BASE", form_oid="LES", group_oid="LESION", repeat_key=1),
        "Lesion 1 is not on the CT report.",
        actor=monitor,
    )
    on_visit = open_query(study, subject, QueryTarget("BASE"), "Visit date?", actor=monitor)
    db.session.commit()

    casebook = build_casebook(study, subject, actor=staff)

    assert casebook["queries"] == {"Open": 2, "Answered": 0, "Closed": 1}
    (weight,) = _form(casebook, "SCR", "DM")["queries"]
    assert weight["number"] == on_item.id
    assert weight["about"] == study.item("DM", "WEIGHT")[1].label
    assert weight["state"] == "Closed" and weight["closed"]
    assert [m["step"] for m in weight["thread"]] == ["Opened", "Answered", "Closed"]
    assert weight["thread"][1]["text"] == "Corrected from the nurse's sheet."
    assert weight["thread"][1]["by"] == f"{staff.full_name} ({staff.username})"
    (row,) = _form(casebook, "BASE", "LES")["queries"]
    assert row["number"] == on_row.id and row["about"].endswith("row 1")
    assert not row["closed"]
    base = next(v for v in casebook["visits"] if v["oid"] == "BASE")
    assert [q["number"] for q in base["queries"]] == [on_visit.id]
    assert base["queries"][0]["about"] == "The whole visit"
    assert all(not f["queries"] for f in base["forms"] if f["oid"] != "LES")


def test_verification_and_signatures_are_printed_where_they_belong(
    documented, study, subject, monitor, investigator, staff, save
):
    from ecrf.sdv.services import SdvTarget, verify
    from ecrf.signatures import services as signatures
    from ecrf.signatures.content import ScopeKey
    from ecrf.signatures.models import Scope
    from tests.conftest import PASSWORD

    verify(study, subject, SdvTarget("SCR", form_oid="DM"), actor=monitor)
    signing = signatures.sign(
        study,
        subject,
        ScopeKey(Scope.VISIT, "SCR", 1),
        actor=investigator,
        password=PASSWORD,
        username=investigator.username,
    )
    assert signing.signature is not None, signing.refusal
    db.session.commit()

    casebook = build_casebook(study, subject, actor=staff)
    dm = _form(casebook, "SCR", "DM")["verification"]
    assert dm["counts"] == "6 of 6 values verified" and dm["complete"]
    assert _form(casebook, "SCR", "ENR")["verification"]["counts"] == "0 of 1 values verified"
    (signed,) = casebook["signatures"]
    assert signed["what"] == "Visit: Screening" and signed["valid"]
    assert signed["name"] == f"{investigator.full_name} (Investigator)"
    screening = next(v for v in casebook["visits"] if v["oid"] == "SCR")
    assert screening["signatures"] == [signed]

    # The site corrects a verified, signed value: both say so in the casebook.
    save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "73.0"}}, reason="Scale misread again")
    casebook = build_casebook(study, subject, actor=staff)
    dm = _form(casebook, "SCR", "DM")["verification"]
    assert dm["counts"] == "5 of 6 values verified; 1 withdrawn by a later change"
    assert not dm["complete"]
    (signed,) = casebook["signatures"]
    assert signed["state"] == "No longer valid"
    assert study.item("DM", "WEIGHT")[1].label in signed["why"]
