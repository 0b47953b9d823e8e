"""Field types: what people type becomes a typed value, stored exactly, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecrf.crf import services
from ecrf.extensions import db
from ecrf.records import fields
from ecrf.records.loader import load_study
from ecrf.records.models import ItemValue
from forms.values import PartialDate
from tests.capture import changes, count, entry_of, events, last_seq, rows, value
from tests.definitions.mini import STUDY

MINI = load_study(STUDY)


def parse(form_oid: str, item_oid: str, raw):
    item = MINI.item(form_oid, item_oid)[1]
    return fields.parse(item, raw, MINI.codelist_for(item))


@pytest.mark.parametrize(
    ("form_oid", "item_oid", "raw", "expected"),
    [
        ("DM", "HEIGHT", "175", 175),
        ("DM", "HEIGHT", " +175 ", 175),
        ("LES", "SUVMAX", "12.50", Decimal("12.50")),
        ("LES", "SUVMAX", "12,5", Decimal("12.50")),
        ("LES", "SUVMAX", "7", Decimal("7.00")),
        ("DM", "WEIGHT", "70", Decimal("70.0")),
        ("LB", "HGB", ",5", Decimal("0.5")),
        ("ENR", "ENRDAT", "2024-05-17", date(2024, 5, 17)),
        ("DM", "BRTHYM", "2024", PartialDate(2024)),
        ("DM", "BRTHYM", "2024-05", PartialDate(2024, 5)),
        ("DM", "BRTHYM", "2024-05-17", PartialDate(2024, 5, 17)),
        ("LB", "LBTIM", "07:05", time(7, 5)),
        ("DM", "SEX", "F", "F"),
        ("DM", "PREG", "N", "N"),
        ("DM", "SYMPT", ["PAIN", "FLUSH", "PAIN", ""], ["FLUSH", "PAIN"]),
        ("DM", "SYMPT", "DIAR PAIN", ["DIAR", "PAIN"]),
        ("DM", "SYMPT", [], None),
        ("DM", "NOTE", "  Seen by Dr X  ", "Seen by Dr X"),
        ("DM", "NOTE", "   ", None),
        ("DM", "HEIGHT", None, None),
    ],
)
def test_typed_entries_become_typed_values(form_oid, item_oid, raw, expected):
    parsed = parse(form_oid, item_oid, raw)
    assert parsed == expected and type(parsed) is type(expected)
    if isinstance(expected, Decimal):  # the precision is kept, not just the amount
        assert str(parsed) == str(expected)


@pytest.mark.parametrize(
    ("form_oid", "item_oid", "raw", "message"),
    [
        ("DM", "HEIGHT", "175.5", "whole number"),
        ("DM", "HEIGHT", "1e3", "whole number"),
        ("DM", "HEIGHT", "12345678901234567890", "too large"),
        ("DM", "WEIGHT", "70.25", "Use at most one decimal place, e.g. 12.5."),
        ("DM", "WEIGHT", "70,25", "Use at most one decimal place"),
        ("LES", "SUVMAX", "12.505", "Use at most 2 decimal places."),
        ("LES", "SUVMAX", "12.5.1", "Enter a number"),
        ("LES", "SUVMAX", "NaN", "Enter a number"),
        ("LES", "SUVMAX", "1.2e1", "Enter a number"),
        ("LES", "LIVSUV", "12345678901234567890.12", "too large"),
        ("ENR", "ENRDAT", "2024-02-30", "real date"),
        ("ENR", "ENRDAT", "17/05/2024", "real date"),
        ("ENR", "ENRDAT", "2024-05", "real date"),
        ("DM", "BRTHYM", "2024-13", "YYYY-MM"),
        ("DM", "BRTHYM", "2023-02-29", "YYYY-MM"),
        ("DM", "BRTHYM", "24-05", "YYYY-MM"),
        ("LB", "LBTIM", "24:00", "HH:MM"),
        ("LB", "LBTIM", "7:05", "HH:MM"),
        ("DM", "SEX", "X", "listed answers"),
        ("DM", "PREG", "yes", "listed answers"),
        ("DM", "SYMPT", ["FLUSH", "COUGH"], "Not one of the listed answers: COUGH"),
        ("DM", "NOTE", "x" * 201, "at most 200 characters"),
    ],
)
def test_malformed_entries_are_refused_in_words(form_oid, item_oid, raw, message):
    with pytest.raises(fields.FieldError, match=message):
        parse(form_oid, item_oid, raw)


@pytest.mark.parametrize(("raw", "kept"), [("70", Decimal(70)), ("+70", Decimal(70))])
def test_a_number_kept_without_decimals_asks_for_whole_numbers_in_words(raw, kept):
    item = replace(MINI.item("DM", "WEIGHT")[1], precision=0)
    assert fields.parse(item, raw, None) == kept
    with pytest.raises(fields.FieldError) as refused:
        fields.parse(item, "70.5", None)
    assert str(refused.value) == "Use whole numbers (no decimal point)."


@pytest.mark.parametrize(
    ("form_oid", "item_oid", "typed", "text"),
    [
        ("LES", "SUVMAX", Decimal("12.50"), "12.50"),
        ("DM", "BRTHYM", PartialDate(1960, 8), "1960-08"),
        ("DM", "SYMPT", ["FLUSH", "PAIN"], "FLUSH PAIN"),
        ("LB", "LBTIM", time(7, 5), "07:05"),
        ("ENR", "ENRDAT", date(2024, 5, 17), "2024-05-17"),
        ("DM", "HEIGHT", 175, "175"),
    ],
)
def test_storage_text_reads_back_as_the_same_value(form_oid, item_oid, typed, text):
    item = MINI.item(form_oid, item_oid)[1]
    assert fields.store(item, typed).text == text
    assert fields.load(item, text) == typed


@pytest.mark.parametrize(
    ("raw", "code"), [("ND", "ND"), (" unk ", "UNK"), (["NASK"], "NASK"), ("NA", "NA")]
)
def test_missing_data_codes_are_recognised(raw, code):
    assert fields.missing_code(raw) == code


@pytest.mark.parametrize("raw", ["N/A", "none", ["NA", "ND"], "", None])
def test_other_entries_are_not_missing_data_codes(raw):
    assert fields.missing_code(raw) is None


# --- through the write path, on the database under test -----------------------------------


def test_every_data_type_is_stored_and_read_back_exactly(study, subject, save):
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-05-17", "THERAPY": "Y"}})
    dm = save(
        subject,
        "SCR",
        "DM",
        {
            ("DM", 1): {
                "BRTHYM": "1960-08",
                "SEX": "F",
                "PREG": "N",
                "WEIGHT": "70,5",
                "HEIGHT": "165",
                "SYMPT": ["PAIN", "FLUSH"],
                "NOTE": "Seen at home",
            }
        },
    ).entry
    save(subject, "SCR", "LB", {("LB", 1): {"LBDAT": "2024-05-18", "LBTIM": "07:05"}})
    les = save(
        subject,
        "BASE",
        "LES",
        {("ORG", 1): {"LIVSUV": "2"}, ("LESION", 1): {"LESID": "L1", "SUVMAX": "12.50"}},
    ).entry

    assert value(study, subject, "SCR.ENR.ENRDAT") == date(2024, 5, 17)
    assert value(study, subject, "SCR.ENR.THERAPY") == "Y"
    assert value(study, subject, "SCR.DM.BRTHYM") == PartialDate(1960, 8)
    assert value(study, subject, "SCR.DM.SYMPT") == ["FLUSH", "PAIN"]
    assert value(study, subject, "SCR.DM.HEIGHT") == 165
    assert value(study, subject, "SCR.DM.NOTE") == "Seen at home"
    assert value(study, subject, "SCR.LB.LBTIM") == time(7, 5)
    weight = value(study, subject, "SCR.DM.WEIGHT")
    assert (type(weight), str(weight)) == (Decimal, "70.5")
    livsuv = value(study, subject, "BASE.LES.LIVSUV")
    assert str(livsuv) == "2.00"
    (lesion,) = rows(study, subject, "BASE", "LES", "LESION")
    assert str(lesion["SUVMAX"]) == "12.50"

    stored = {
        v.item_oid: v for v in db_values() if v.item_oid in ("SUVMAX", "BRTHYM", "WEIGHT", "SYMPT")
    }
    assert stored["SUVMAX"].value_text == "12.50" and stored["SUVMAX"].value_number == Decimal(
        "12.5"
    )
    assert stored["BRTHYM"].value_text == "1960-08" and stored["BRTHYM"].value_date is None
    assert stored["SYMPT"].value_text == "FLUSH PAIN"
    assert ("item_entered", "DM[1].WEIGHT", None, "70.5", None) in changes(dm.id)
    assert ("item_entered", "DM[1].SYMPT", None, "FLUSH PAIN", None) in changes(dm.id)
    assert ("item_entered", "LESION[1].SUVMAX", None, "12.50", None) in changes(les.id)


def db_values() -> list[ItemValue]:
    return list(db.session.scalars(sa.select(ItemValue)))


def test_a_complete_date_is_also_stored_as_a_date_for_queries(subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): {"BRTHYM": "1960-08-03"}}).entry
    (stored,) = [v for v in db_values() if v.item_oid == "BRTHYM"]
    assert (stored.value_text, stored.value_date) == ("1960-08-03", date(1960, 8, 3))
    assert ("item_entered", "DM[1].BRTHYM", None, "1960-08-03", None) in changes(entry.id)


def test_a_decimal_with_more_places_than_allowed_is_refused_and_not_written(subject, save):
    before = (last_seq(), count(ItemValue))
    with pytest.raises(services.ValidationFailed) as caught:
        save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "70.25", "HEIGHT": "170"}})
    db.session.rollback()
    (issue,) = caught.value.issues
    assert (issue.group_oid, issue.row_key, issue.item_oid) == ("DM", 1, "WEIGHT")
    assert "at most one decimal place" in issue.message
    assert (last_seq(), count(ItemValue)) == before
    assert entry_of(subject, "SCR", "DM") is None


@pytest.mark.parametrize(
    ("item_oid", "typed", "code"),
    [
        ("WEIGHT", "ND", "ND"),
        ("BRTHYM", "unk", "UNK"),
        ("SEX", "NASK", "NASK"),
        ("HEIGHT", "NA", "NA"),
    ],
)
def test_a_missing_data_code_is_stored_instead_of_a_value(
    study, subject, save, item_oid, typed, code
):
    entry = save(subject, "SCR", "DM", {("DM", 1): {item_oid: typed}}).entry
    (stored,) = [v for v in db_values() if v.item_oid == item_oid]
    assert (stored.value_text, stored.value_number, stored.missing_code) == (None, None, code)
    assert value(study, subject, f"SCR.DM.{item_oid}") is None
    assert changes(entry.id) == [
        ("row_added", "DM[1]", None, None, None),
        ("item_entered", f"DM[1].{item_oid}", None, f"[{code}]", None),
    ]


def test_a_missing_data_code_answers_a_required_item(subject, save):
    result = save(subject, "SCR", "DM", {("DM", 1): {"BRTHYM": "UNK", "SEX": "M"}}, complete=True)
    assert result.entry.status.value == "complete"
    assert ("item_entered", "DM[1].BRTHYM", None, "[UNK]", None) in changes(result.entry.id)
    assert [e.action for e in events(result.entry.id, "form_completed")] == ["form_completed"]


def test_a_missing_data_code_is_refused_where_the_item_allows_none(subject, save):
    before = (last_seq(), count(ItemValue))
    with pytest.raises(services.ValidationFailed) as caught:
        save(subject, "SCR", "DM", {("DM", 1): {"NOTE": "ND", "HEIGHT": "170"}})
    db.session.rollback()
    (issue,) = caught.value.issues
    assert (issue.item_oid, issue.severity) == ("NOTE", "error")
    assert "missing-data code" in issue.message
    assert (last_seq(), count(ItemValue)) == before


def test_a_value_replaces_a_missing_data_code_and_the_trail_shows_both(subject, save):
    entry = save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "ND"}}).entry
    save(subject, "SCR", "DM", {("DM", 1): {"WEIGHT": "72"}})
    (stored,) = [v for v in db_values() if v.item_oid == "WEIGHT"]
    assert (stored.value_text, stored.missing_code) == ("72.0", None)
    assert changes(entry.id)[1:] == [
        ("item_entered", "DM[1].WEIGHT", None, "[ND]", None),
        ("item_changed", "DM[1].WEIGHT", "[ND]", "72.0", None),
    ]


@pytest.mark.parametrize(
    "text", ["20240501", "2024-5-1", "2024-02-30", "01/05/2024", "2024-05-01T10:00"]
)
def test_one_date_reading_refuses_what_is_not_a_real_yyyy_mm_dd_day(text):
    with pytest.raises(fields.FieldError, match="Enter a real date as YYYY-MM-DD"):
        fields.parse_day(text)


def test_one_date_reading_serves_items_and_visit_dates():
    assert fields.parse_day(" 2024-05-01 ") == date(2024, 5, 1)
