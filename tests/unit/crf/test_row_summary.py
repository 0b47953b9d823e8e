"""The one-line summary of a log's rows (ecrf/crf/row_summary.py) on the real AE log: what
the line shows of each column, and which rows open by themselves."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from ecrf.crf.row_summary import EMPTY, column_kinds, opens_by_itself, summary_cells
from ecrf.crf.web_forms import build_entry_form


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


def _cells(app, study, typed: dict[str, str]) -> dict[str, tuple[str, str]]:
    with app.test_request_context():
        form_def = study.forms["AE"]
        (group,) = form_def.groups
        form = build_entry_form(
            study,
            form_def,
            {"AE": [1]},
            formdata=MultiDict({f"AE-1-{oid}": text for oid, text in typed.items()}),
        )
        return {c.heading: (c.short, c.full) for c in summary_cells(study, form, group, 1)}


def test_the_line_shows_labels_short_and_whole(app, study):
    cells = _cells(
        app,
        study,
        {
            "AESPID": "3",
            "AELLTCD": "10035528",
            "AETOXGR": "3",
            "AESTDAT": "2025-03",
            "AEREL": "UNK",
        },
    )
    assert cells["No."] == ("3", "3")
    assert cells["CTCAE term"] == ("Platelet count decreased", "Platelet count decreased")
    assert cells["Grade"] == ("Grade 3", "Grade 3: severe or medically significant")
    assert cells["Start"] == ("2025-03", "2025-03")  # a partial date as typed
    assert cells["177Lu"] == ("UNK", "Unknown")  # a missing-data code, named in full
    assert cells["End"] == (EMPTY, EMPTY)


@pytest.mark.parametrize(
    ("typed", "ongoing", "end"),
    [
        ({"AEONGO": "Y"}, True, EMPTY),  # no end date asked: the event is ongoing
        ({"AEONGO": "N"}, False, EMPTY),  # ended, its date not given yet
        ({}, False, EMPTY),  # not answered
        ({"AEONGO": "N", "AEENDAT": "2025-04-02"}, False, "2025-04-02"),
    ],
)
def test_an_ongoing_event_is_marked_so_in_the_end_column(app, study, typed, ongoing, end):
    with app.test_request_context():
        form_def = study.forms["AE"]
        (group,) = form_def.groups
        form = build_entry_form(
            study,
            form_def,
            {"AE": [1]},
            formdata=MultiDict({f"AE-1-{oid}": text for oid, text in typed.items()}),
        )
        cells = {c.heading: c for c in summary_cells(study, form, group, 1)}
    assert (cells["End"].ongoing, cells["End"].short) == (ongoing, end)
    assert not any(c.ongoing for heading, c in cells.items() if heading != "End")


def test_columns_keep_their_kind(study):
    (group,) = study.forms["AE"].groups
    assert column_kinds(group) == [
        "number", "name", "answer", "date", "date", "yes-no", "answer", "answer", "answer"
    ]  # fmt: skip


def test_new_rows_and_rows_with_a_message_open_by_themselves(study):
    (group,) = study.forms["AE"].groups
    assert opens_by_itself({}, group, 2, saved=False)
    assert not opens_by_itself({}, group, 2, saved=True)
    assert opens_by_itself({"AE-2-AETOXGR": [("error", "…")]}, group, 2, saved=True)
    assert not opens_by_itself({"AE-1-AETOXGR": [("error", "…")]}, group, 2, saved=True)
