"""The graph of which derivation and check reads which item: cycles refused at load, and
the rules a save reaches."""

from __future__ import annotations

import pytest

from ecrf.records.loader import DefinitionError, load_study
from forms.language import DataType, Derivation, Item
from forms.rules import compare
from tests.definitions.edit import add_item, replace_form
from tests.definitions.mini import STUDY


def _with_derivations(study, form_oid, *derivations):
    """The form's derivations, those of the same targets replaced by ``derivations``."""
    form = next(f for f in study.forms if f.oid == form_oid)
    targets = {d.target for d in derivations}
    kept = tuple(d for d in form.derivations if d.target not in targets)
    return replace_form(study, form_oid, derivations=(*kept, *derivations))


def test_derivations_that_feed_each_other_are_refused_at_start_with_their_path():
    study = add_item(STUDY, "DM", Item("BSA", "Body surface", DataType.DECIMAL, derived=True))
    study = _with_derivations(
        study,
        "DM",
        Derivation("BMI", ("WEIGHT", "BSA"), lambda v: None, "from BSA"),
        Derivation("BSA", ("BMI", "HEIGHT"), lambda v: None, "from BMI"),
    )
    with pytest.raises(DefinitionError) as caught:
        load_study(study)
    cycles = [p for p in caught.value.problems if "cycle" in p]
    assert cycles == [
        "derivations feed each other in a cycle: SCR.DM.BMI → SCR.DM.BSA → SCR.DM.BMI"
    ]


def test_a_derivation_reading_its_own_target_is_a_cycle_too():
    study = _with_derivations(
        STUDY, "DM", Derivation("BMI", ("WEIGHT", "BMI"), lambda v: None, "self")
    )
    with pytest.raises(DefinitionError, match=r"cycle: SCR\.DM\.BMI → SCR\.DM\.BMI"):
        load_study(study)


def test_a_chain_of_derivations_without_a_loop_loads():
    study = add_item(STUDY, "DM", Item("BSA", "Body surface", DataType.DECIMAL, derived=True))
    study = _with_derivations(study, "DM", Derivation("BSA", ("BMI",), lambda v: None, "from BMI"))
    assert load_study(study).rules.cycles() == []


def test_the_trial_definition_has_no_cycle_and_every_rule_in_the_graph():
    from forms.iahprrt import STUDY as TRIAL

    loaded = load_study(TRIAL)
    graph = loaded.rules
    assert graph.cycles() == []
    in_graph = sum(len(rules) for rules in graph.rules_of.values())
    assert in_graph == sum(len(f.derivations) + len(f.checks) for f in TRIAL.forms)


def test_a_change_reaches_the_rules_that_read_it_and_what_their_results_feed():
    study = add_item(STUDY, "DM", Item("BSA", "Body surface", DataType.DECIMAL, derived=True))
    study = _with_derivations(study, "DM", Derivation("BSA", ("BMI",), lambda v: None, "from BMI"))
    graph = load_study(study).rules
    dm, lb, ae = ("SCR", 1, "DM"), ("SCR", 1, "LB"), ("LOGS", 1, "AE")
    scope = graph.reach([dm, lb, ae], [("SCR", 1, "DM", "WEIGHT")], saved=dm)
    # WEIGHT → BMI → BSA, all in the saved entry; AGE runs as every rule of the saved form.
    assert {t for _, t in scope.derivations} == {"BMI", "BSA", "AGE"}
    assert scope.checks == set()  # nothing on LB or AE reads DM's items


def test_a_change_in_a_log_reaches_a_check_of_another_form_reading_its_rows():
    graph = load_study(STUDY).rules
    dm, lb1, lb2, ae = ("SCR", 1, "DM"), ("SCR", 1, "LB"), ("TX", 1, "LB"), ("LOGS", 1, "AE")
    entries = [dm, lb1, lb2, ae]
    scope = graph.reach(entries, [("LOGS", 1, "AE", "AETERM")], saved=ae)
    # Every LB entry's HGB check reads LOGS.AE.AE[]: each runs, on its own entry.
    assert {(e, c) for e, c in scope.checks if c == "HGB_GRADE3_AE"} == {
        (lb1, "HGB_GRADE3_AE"),
        (lb2, "HGB_GRADE3_AE"),
    }
    assert not any(e == dm for e, _ in scope.derivations)


def test_a_change_reaches_nothing_beyond_its_readers():
    graph = load_study(STUDY).rules
    dm, lb = ("SCR", 1, "DM"), ("SCR", 1, "LB")
    scope = graph.reach([dm, lb], [("SCR", 1, "LB", "LBTIM")], saved=lb)
    assert scope.derivations == set()
    assert scope.checks == {(lb, "HGB_GRADE3_AE")}  # the saved form's own rules only


def test_rows_of_this_entry_and_items_of_the_same_visit_resolve():
    loaded = load_study(STUDY)
    rows = loaded.resolve("AE", "AE[]")
    assert (rows.local, rows.form, rows.group, rows.item) == (True, "AE", "AE", None)
    same = loaded.resolve("LB", "DM.WEIGHT")  # LB and DM are both forms of screening
    assert (same.same_visit, same.form, same.item, same.visit) == (True, "DM", "WEIGHT", None)
    for form_oid, ref in [("LES", "DM.WEIGHT"), ("LB", "LB.HGB"), ("DM", "LB[]")]:
        with pytest.raises(KeyError):
            loaded.resolve(form_oid, ref)  # no shared visit; its own form; not repeating


def _lb_reading_weight():
    check = compare("HGB_WEIGHT", "HGB", "<=", "DM.WEIGHT", message="{left} > {right}")
    form = next(f for f in STUDY.forms if f.oid == "LB")
    return replace_form(STUDY, "LB", checks=(*form.checks, check))


def test_a_change_reaches_a_same_visit_reader_at_that_visit_only():
    graph = load_study(_lb_reading_weight()).rules
    dm, lb_scr, lb_tx = ("SCR", 1, "DM"), ("SCR", 1, "LB"), ("TX", 1, "LB")
    scope = graph.reach([dm, lb_scr, lb_tx], [("SCR", 1, "DM", "WEIGHT")], saved=dm)
    assert (lb_scr, "HGB_WEIGHT") in scope.checks
    assert (lb_tx, "HGB_WEIGHT") not in scope.checks


def test_a_same_visit_derivation_loop_is_a_cycle():
    study = _with_derivations(
        STUDY, "DM", Derivation("BMI", ("WEIGHT", "LB.HGB"), lambda v: None, "reads LB")
    )
    study = add_item(study, "LB", Item("HGBX", "Derived", DataType.DECIMAL, derived=True))
    form = next(f for f in study.forms if f.oid == "LB")
    study = replace_form(
        study,
        "LB",
        derivations=(*form.derivations, Derivation("HGBX", ("DM.BMI",), lambda v: None, "x")),
    )
    assert load_study(study).rules.cycles() == []  # LB.HGBX reads BMI; nothing feeds back
    study = _with_derivations(
        study, "DM", Derivation("BMI", ("WEIGHT", "LB.HGBX"), lambda v: None, "loop")
    )
    with pytest.raises(DefinitionError, match=r"SCR\.DM\.BMI → SCR\.LB\.HGBX → SCR\.DM\.BMI"):
        load_study(study)


@pytest.mark.parametrize(
    ("left", "op", "right", "problem"),
    [
        ("WEIGHT", "<=", "SEX", "cannot compare WEIGHT (decimal) <= SEX (choice)"),
        ("SEX", "<", "SEX", "cannot compare SEX (choice) < SEX (choice)"),
        ("BRTHYM", ">=", "HEIGHT", "cannot compare BRTHYM (partial_date) >= HEIGHT (integer)"),
    ],
)
def test_a_comparison_of_items_that_do_not_compare_is_refused_at_start(left, op, right, problem):
    form = next(f for f in STUDY.forms if f.oid == "DM")
    check = compare("ODD", left, op, right, message="m")
    study = replace_form(STUDY, "DM", checks=(*form.checks, check))
    with pytest.raises(DefinitionError) as caught:
        load_study(study)
    assert f"form DM, check ODD: {problem}" in caught.value.problems


def test_comparable_items_load():
    form = next(f for f in STUDY.forms if f.oid == "DM")
    checks = (
        compare("W_H", "WEIGHT", "<=", "HEIGHT", message="m"),  # decimal and integer
        compare("SAME_SEX", "SEX", "==", "SEX", message="m"),  # choices for equality
    )
    load_study(replace_form(STUDY, "DM", checks=(*form.checks, *checks)))
