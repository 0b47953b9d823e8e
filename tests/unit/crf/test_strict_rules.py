"""Failures are never silent: a derivation or an edit check that raises (a bug of the
definition) is logged with where it failed and on what inputs (STRICT_RULES off, production),
or stops the save with RuleFailed (STRICT_RULES on, as in every test)."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy, load_study
from ecrf.records.rule_failures import RuleFailed, shortened_repr, strict_rules
from forms.language import Check, Derivation
from tests.capture import entry_of, rows
from tests.definitions.mini import STUDY


def unguarded_ratio(values):
    """The mini study's tumour-to-liver ratio without its guard on missing values."""
    return values["SUVMAX"] / values["LIVSUV"]


def unguarded_suvmean(values):
    """The mini study's SUVmean check without its guard on a missing SUVmean."""
    mean, peak = values["SUVMEAN"], values["SUVMAX"]
    return "SUVmean cannot exceed SUVmax." if peak is not None and mean > peak else None


def broken(form):
    if form.oid != "LES":
        return form
    return replace(
        form,
        derivations=(Derivation("TLR", ("SUVMAX", "LIVSUV"), unguarded_ratio, "SUVmax / liver"),),
        checks=(Check("SUVMEAN_LE_SUVMAX", "SUVMEAN", ("SUVMEAN", "SUVMAX"), unguarded_suvmean),),
    )


BROKEN = replace(STUDY, version="1.0-broken", forms=tuple(broken(f) for f in STUDY.forms))


@pytest.fixture
def study(app_ctx) -> LoadedStudy:
    """The mini study with a derivation and a check that raise on missing values."""
    return load_study(BROKEN)


@pytest.fixture
def lenient(app):
    """STRICT_RULES off, as in production."""
    app.config["STRICT_RULES"] = False


def failures(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ecrf.crf.evaluate"]


#: Lesion 2 has no SUVmax: the unguarded ratio divides None by the liver SUVmean.
NO_SUVMAX = {
    ("ORG", 1): {"LIVSUV": "2"},
    ("LESION", 1): {"LESID": "L1", "SUVMAX": "10", "SUVMEAN": "4"},
    ("LESION", 2): {"LESID": "L2"},
}


def test_a_derivation_that_raises_is_logged_with_where_and_on_what(
    study, subject, save, lenient, caplog
):
    save(subject, "BASE", "LES", NO_SUVMAX)
    (record,) = failures(caplog)  # once, though run_derivations() makes several passes
    assert record.levelno == logging.ERROR
    assert isinstance(record.exc_info[1], TypeError)
    message = record.getMessage()
    for part in (
        "derivation TLR raised TypeError",
        f"subject {subject.identifier}",
        "visit BASE[1]",
        "form LES",
        "row LESION[2]",
        "'SUVMAX': None",
        "'LIVSUV': Decimal('2.00')",
    ):
        assert part in message, message
    # The save went through: nothing derived for lesion 2, lesion 1 as before.
    assert [row.get("TLR") for row in rows(study, subject, "BASE", "LES", "LESION")] == [
        5,
        None,
    ]


def test_a_derivation_that_raises_stops_the_save_when_strict(study, subject, save):
    assert strict_rules()  # the tests' setting
    with pytest.raises(RuleFailed) as caught:
        save(subject, "BASE", "LES", NO_SUVMAX)
    db.session.rollback()
    failure = caught.value
    assert (failure.kind, failure.rule, failure.subject) == ("derivation", "TLR", "BDX-001")
    assert (failure.visit_oid, failure.visit_repeat, failure.form_oid) == ("BASE", 1, "LES")
    assert (failure.group_oid, failure.row_key) == ("LESION", 2)
    assert "'SUVMAX': None" in failure.inputs
    assert isinstance(failure.__cause__, TypeError)
    assert "derivation TLR raised TypeError" in str(failure)
    assert entry_of(subject, "BASE", "LES") is None  # nothing was saved


#: Lesion 2 has a SUVmax but no SUVmean: the unguarded check compares None with it.
NO_SUVMEAN = {
    ("ORG", 1): {"LIVSUV": "2"},
    ("LESION", 1): {"LESID": "L1", "SUVMAX": "10", "SUVMEAN": "4"},
    ("LESION", 2): {"LESID": "L2", "SUVMAX": "8"},
}


def test_a_check_that_raises_is_logged_with_where_and_on_what(
    study, subject, save, lenient, caplog
):
    result = save(subject, "BASE", "LES", NO_SUVMEAN)
    record = next(r for r in failures(caplog) if "SUVMEAN_LE_SUVMAX" in r.getMessage())
    assert record.levelno == logging.ERROR
    assert isinstance(record.exc_info[1], TypeError)
    message = record.getMessage()
    for part in (
        "edit check SUVMEAN_LE_SUVMAX raised TypeError",
        f"subject {subject.identifier}",
        "visit BASE[1]",
        "form LES",
        "row LESION[2]",
        "'SUVMEAN': None",
        "'SUVMAX': Decimal('8.00')",
    ):
        assert part in message, message
    assert result.entry.version == 1  # saved, with no finding from the broken check


def test_a_check_that_raises_stops_the_save_when_strict(study, subject, save):
    with pytest.raises(RuleFailed) as caught:
        save(subject, "BASE", "LES", NO_SUVMEAN)
    db.session.rollback()
    failure = caught.value
    assert (failure.kind, failure.rule) == ("edit check", "SUVMEAN_LE_SUVMAX")
    assert (failure.form_oid, failure.group_oid, failure.row_key) == ("LES", "LESION", 2)
    assert isinstance(failure.__cause__, TypeError)
    assert entry_of(subject, "BASE", "LES") is None


def test_strict_rules_are_off_outside_an_app():
    assert not strict_rules()


def test_long_inputs_are_shortened_in_the_report():
    rows_ = [{"LESID": f"L{n}", "SUVMAX": n} for n in range(500)]
    text = shortened_repr({"IDX[]": rows_}, limit=100)
    assert text.startswith("{'IDX[]': [{'LESID': 'L0'")
    assert text.endswith(f"… ({len(repr({'IDX[]': rows_}))} characters)")
    assert len(text) < 130
