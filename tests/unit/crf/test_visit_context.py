"""Visit context as rule inputs: the visit's date ("@VISIT_DATE"), a reference date
("@D0"), the visit's window and the day of the save ("@TODAY"); refused where they cannot
exist; re-run, with their findings and derived values, when the date they read changes,
whether by a save or by dating a visit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ecrf.crf import services, visits
from ecrf.extensions import db
from ecrf.records.loader import DefinitionError, LoadedStudy, load_study
from ecrf.records.models import Finding, FindingStatus
from forms.language import (
    TODAY,
    VISIT_DATE,
    WINDOW_END,
    WINDOW_START,
    Check,
    DataType,
    Derivation,
    Item,
    Reference,
    Severity,
    reference_date,
)
from forms.rules import between, compare, within
from tests.capture import entry_of, events, refused, snapshot, value
from tests.definitions.edit import add_item, replace_form
from tests.definitions.mini import STUDY


def study_day(values):
    """SDTM --DY: days from D0, D0 being day 1 (no day 0)."""
    day, d0 = values["LBDAT"], values["@D0"]
    if day is None or d0 is None:
        return None
    days = (day - d0).days
    return days + 1 if days >= 0 else days


def _with_checks(study, form_oid, *checks):
    form = next(f for f in study.forms if f.oid == form_oid)
    return replace_form(study, form_oid, checks=(*form.checks, *checks))


def _context_study():
    study = add_item(
        STUDY, "LB", Item("LBDY", "Study day of the sample", DataType.INTEGER, derived=True)
    )
    lb = next(f for f in study.forms if f.oid == "LB")
    study = replace_form(
        study,
        "LB",
        derivations=(Derivation("LBDY", ("LBDAT", reference_date("D0")), study_day, "LBDAT − D0"),),
        checks=(
            *lb.checks,
            within(
                "NEAR_VISIT",
                "LBDAT",
                of=VISIT_DATE,
                days=(-3, 0),
                message="Sample of {value}: expected from {earliest} to {latest} ({reference}).",
            ),
        ),
    )
    study = add_item(study, "LES", Item("PETDAT", "Date of the PET", DataType.DATE))
    study = _with_checks(
        study,
        "LES",
        between(
            "IN_WINDOW",
            "PETDAT",
            WINDOW_START,
            WINDOW_END,
            message="PET of {value} outside its window {low} to {high}.",
        ),
    )
    study = _with_checks(
        study,
        "ENR",
        within(
            "ENTERED_LATE",
            "ENRDAT",
            of=TODAY,
            days=(-30, 0),
            message="Consent of {value} entered on {reference}, more than 30 days later.",
        ),
    )
    return replace(study, version="1.0-context")


CONTEXT_STUDY = _context_study()


@pytest.fixture
def study(app_ctx) -> LoadedStudy:
    return load_study(CONTEXT_STUDY)


def open_findings(subject, check: str) -> list[str]:
    db.session.expire_all()
    return [
        f.message
        for f in db.session.scalars(
            db.select(Finding).where(
                Finding.subject_id == subject.id,
                Finding.check_name == check,
                Finding.status == FindingStatus.OPEN,
            )
        )
    ]


def date_visit(study, subject, visit_oid, day, **options):
    visits.set_visit_date(study, subject, visit_oid, day, actor=None, **options)
    db.session.commit()


# --- the definition ---------------------------------------------------------------------


def _problems(study) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_study(study)
    return caught.value.problems


def test_the_context_study_loads():
    load_study(CONTEXT_STUDY)


@pytest.mark.parametrize(
    ("form_oid", "check", "problem"),
    [
        (
            "LB",
            compare("X", "LBDAT", "<=", "@NEXT_VISIT", message="m"),
            "form LB, check X: unknown input @NEXT_VISIT",
        ),
        (
            "AE",
            compare("X", "AESTDAT", ">=", VISIT_DATE, message="m"),
            "form AE, check X: @VISIT_DATE is read in the log LOGS, which has no date",
        ),
        (
            "LB",
            between("X", "LBDAT", WINDOW_START, WINDOW_END, message="m"),
            "form LB, check X: @WINDOW_START is read at UNS, which has no window",
        ),
        (
            "LB",
            compare("X", "HGB", "<=", reference_date("D0"), message="m"),
            "form LB, check X: cannot compare HGB (decimal) <= @D0 (date)",
        ),
        (
            "LB",
            within("X", "HGB", of=VISIT_DATE, days=(0, 1), message="m"),
            "form LB, check X: HGB (decimal) is not a date",
        ),
    ],
)
def test_context_a_form_cannot_have_is_refused_at_start(form_oid, check, problem):
    assert problem in _problems(_with_checks(STUDY, form_oid, check))


def test_a_derived_value_cannot_depend_on_the_day_it_is_computed():
    study = add_item(STUDY, "LB", Item("AGO", "Days ago", DataType.INTEGER, derived=True))
    study = replace_form(
        study, "LB", derivations=(Derivation("AGO", ("LBDAT", TODAY), lambda v: None, "ago"),)
    )
    assert (
        "form LB, derivation of AGO: a derived value cannot depend on the day it is computed"
        in _problems(study)
    )


def test_a_reference_event_cannot_take_the_name_of_the_context():
    study = replace(STUDY, references=(*STUDY.references, Reference("TODAY", ("visit:BASE",))))
    assert "reference TODAY: the name is taken by the visit context (@TODAY)" in _problems(study)


def test_conditions_read_items_not_the_context():
    study = replace_form(
        STUDY,
        "DM",
        groups=tuple(
            replace(
                g,
                items=tuple(
                    replace(i, shown_when=replace(i.shown_when, item=VISIT_DATE))
                    if i.oid == "PREG"
                    else i
                    for i in g.items
                ),
            )
            for g in next(f for f in STUDY.forms if f.oid == "DM").groups
        ),
    )
    assert any("@VISIT_DATE" in p for p in _problems(study))


def test_the_graph_knows_which_rules_a_visit_date_reaches(study):
    graph = study.rules
    entries = [("SCR", 1, "LB"), ("TX", 1, "LB"), ("BASE", 1, "LES"), ("SCR", 1, "ENR")]
    scr = graph.reach(entries, (), saved=None, dated=[("SCR", 1)])
    assert scr.checks == {(("SCR", 1, "LB"), "NEAR_VISIT")}
    assert scr.derivations == set()
    # BASE dates D0: the study days of every sample and the window of the baseline PET.
    base = graph.reach(entries, (), saved=None, dated=[("BASE", 1)])
    assert base.derivations == {(("SCR", 1, "LB"), "LBDY"), (("TX", 1, "LB"), "LBDY")}
    assert (("BASE", 1, "LES"), "IN_WINDOW") in base.checks
    assert (("BASE", 1, "LES"), "NEAR_VISIT") not in base.checks
    # ... and so does the planned D0 until then, an item.
    planned = graph.reach(entries, [("SCR", 1, "ENR", "D0PLAN")], saved=("SCR", 1, "ENR"))
    assert (("BASE", 1, "LES"), "IN_WINDOW") in planned.checks
    assert (("TX", 1, "LB"), "LBDY") in planned.derivations


# --- saves and visit dates ------------------------------------------------------------------


SAMPLE = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}}


def test_a_check_reads_the_date_of_its_visit(study, subject, save):
    date_visit(study, subject, "SCR", date(2024, 5, 10))
    save(subject, "SCR", "LB", SAMPLE)
    assert open_findings(subject, "NEAR_VISIT") == [
        "Sample of 2024-05-02: expected from 2024-05-07 to 2024-05-10 (2024-05-10)."
    ]


def test_a_visit_not_dated_yet_raises_nothing_on_its_date(study, subject, save):
    save(subject, "SCR", "LB", SAMPLE)
    assert open_findings(subject, "NEAR_VISIT") == []


def test_dating_a_visit_re_runs_the_checks_that_read_its_date(study, subject, save):
    save(subject, "SCR", "LB", SAMPLE)
    date_visit(study, subject, "SCR", date(2024, 5, 10))
    (message,) = open_findings(subject, "NEAR_VISIT")
    assert "expected from 2024-05-07 to 2024-05-10" in message
    entry = entry_of(subject, "SCR", "LB")
    (finding,) = db.session.scalars(db.select(Finding).where(Finding.entry_id == entry.id))
    assert [e.new for e in events(finding.id, "finding_opened", entity="finding")] == [message]

    date_visit(study, subject, "SCR", date(2024, 5, 3), reason="typing error")
    assert open_findings(subject, "NEAR_VISIT") == []
    assert len(events(finding.id, "finding_resolved", entity="finding")) == 1


def test_dating_the_visit_that_dates_d0_re_derives_every_study_day(study, subject, save):
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-04-20", "D0PLAN": "2024-05-20"}})
    save(subject, "SCR", "LB", SAMPLE)
    assert value(study, subject, "SCR.LB.LBDY") == -18  # from the planned D0
    date_visit(study, subject, "BASE", date(2024, 5, 22))  # D0 took place two days late
    assert value(study, subject, "SCR.LB.LBDY") == -20
    entry = entry_of(subject, "SCR", "LB")
    derived = events(entry.id, "item_derived")
    assert [(e.field, e.old, e.new) for e in derived][-1] == ("LB[1].LBDY", "-18", "-20")


def test_a_window_follows_its_reference_wherever_it_is_dated_from(study, subject, save):
    save(subject, "SCR", "ENR", {("ENR", 1): {"ENRDAT": "2024-04-20", "D0PLAN": "2024-05-20"}})
    save(subject, "BASE", "LES", {("ORG", 1): {"PETDAT": "2024-05-21"}})
    assert open_findings(subject, "IN_WINDOW") == [
        "PET of 2024-05-21 outside its window 2024-05-20 to 2024-05-20."
    ]
    # A new plan (an item of another form) reaches the PET's check...
    save(
        subject,
        "SCR",
        "ENR",
        {("ENR", 1): {"D0PLAN": "2024-05-21"}},
    )
    assert open_findings(subject, "IN_WINDOW") == []
    # ... and so does the date of the baseline visit, which then dates D0.
    date_visit(study, subject, "BASE", date(2024, 5, 23))
    assert open_findings(subject, "IN_WINDOW") == [
        "PET of 2024-05-21 outside its window 2024-05-23 to 2024-05-23."
    ]


def test_today_is_the_day_of_the_save(study, subject, save):
    consent = {("ENR", 1): {"ENRDAT": "2024-05-01"}}
    save(subject, "SCR", "ENR", consent, today=date(2024, 5, 31))
    assert open_findings(subject, "ENTERED_LATE") == []
    save(subject, "SCR", "ENR", {("ENR", 1): {"THERAPY": "Y"}}, today=date(2024, 6, 30))
    assert open_findings(subject, "ENTERED_LATE") == [
        "Consent of 2024-05-01 entered on 2024-06-30, more than 30 days later."
    ]


def test_a_rejecting_check_on_the_visit_date_refuses_the_save_at_its_field(subject):
    same_day = Check(
        "SAME_DAY",
        "PETDAT",
        ("PETDAT", VISIT_DATE),
        lambda v: "Not the visit day." if v["PETDAT"] != v[VISIT_DATE] else None,
        severity=Severity.REJECT,
    )
    strict = load_study(replace(_with_checks(CONTEXT_STUDY, "LES", same_day), version="1.0-s"))
    date_visit(strict, subject, "BASE", date(2024, 5, 20))
    before = snapshot()
    failed = refused(
        services.save_form,
        strict,
        subject,
        "BASE",
        "LES",
        {("ORG", 1): {"PETDAT": "2024-05-21"}},
        actor=None,
        expected_version=0,
    )
    assert [(i.item_oid, i.message) for i in failed.issues] == [("PETDAT", "Not the visit day.")]
    assert snapshot() == before
