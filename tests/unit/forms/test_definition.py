"""The whole IAH-PRRT definition: it loads, follows the protocol's schedule, keeps its
layering, and its eligibility data match the checklist."""

from __future__ import annotations

import ast
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from ecrf.records.loader import load_study
from forms.iahprrt import STUDY
from forms.iahprrt.eligibility import CRITERIA, EXCLUSION, INCLUSION
from forms.language import DataType, VisitKind
from tests.trial_definition import form

FORMS_DIR = Path(__file__).resolve().parents[3] / "forms"


def test_the_definition_loads_without_a_problem():
    loaded = load_study(STUDY)
    assert loaded.version == "1.6"
    assert len(loaded.digest) == 64


@pytest.mark.parametrize("rows", [None, []], ids=["none", "no rows"])
def test_no_rule_raises_while_its_data_are_missing(rows):
    # Rules express "cannot be computed yet" by returning None: raising is a bug of the
    # definition, which the engine reports (and, under STRICT_RULES, stops the save with).
    for f in STUDY.forms:
        for rule in (*f.derivations, *f.checks):
            values = {ref: rows if ref.endswith("[]") else None for ref in rule.inputs}
            rule.function(values)


def test_the_digest_is_stable_and_covers_the_rules_parameters():
    assert load_study(STUDY).digest == load_study(STUDY).digest
    luadm = form("LUADM")
    rule = next(c for c in luadm.checks if c.name == "ACTIVITY_WITHIN_10PCT")
    looser = replace(rule, function=replace(rule.function, constants=(15,)))
    amended = replace(
        STUDY,
        forms=tuple(
            replace(f, checks=tuple(looser if c is rule else c for c in f.checks))
            if f is luadm
            else f
            for f in STUDY.forms
        ),
    )
    assert load_study(amended).digest != load_study(STUDY).digest


# STUDY.md, "Visit schedule": reference, target day, window (inclusive), sub-group.
SCHEDULE = {
    "SCR": ("D0", -28, (-42, -7), None),
    "PETIV": ("D0", -7, (-21, -1), None),
    "PETIAH": ("D0", 0, (0, 0), None),
    "CALL": ("D0", 14, (11, 17), None),
    "THER": ("D0", 28, (14, 56), "THERAPY"),
    "W2": ("T0", 14, (11, 17), "THERAPY"),
    "W4": ("T0", 28, (25, 31), "THERAPY"),
    "W6": ("T0", 42, (39, 45), "THERAPY"),
    "W8": ("T0", 56, (53, 59), "THERAPY"),
    "M3": ("T0", 90, (83, 97), "THERAPY"),
    "M6": ("T0", 180, (166, 194), "THERAPY"),
}


@pytest.mark.parametrize("oid", SCHEDULE)
def test_every_scheduled_visit_of_the_protocol_has_its_window(oid):
    visit = next(v for v in STUDY.visits if v.oid == oid)
    reference, day, window, subgroup = SCHEDULE[oid]
    assert visit.kind is VisitKind.SCHEDULED
    assert (visit.reference, visit.offset_days, visit.window, visit.subgroup) == (
        reference,
        day,
        window,
        subgroup,
    )


def test_visits_come_in_protocol_order_with_unscheduled_and_logs_last():
    assert [v.oid for v in STUDY.visits] == [*SCHEDULE, "UNS", "LOGS"]
    kinds = {v.oid: v.kind for v in STUDY.visits}
    assert kinds["UNS"] is VisitKind.UNSCHEDULED and kinds["LOGS"] is VisitKind.LOG


def test_references_are_d0_at_the_iah_pet_and_t0_at_the_177lu_cycle():
    refs = {r.name: r for r in STUDY.references}
    assert refs["D0"].sources == ("visit:PETIAH", "SCR.IC.D0PLAN")
    assert refs["T0"].sources == ("visit:THER",) and refs["T0"].offset_from == ("D0", 28)


VISIT_CONTENT = {
    "SCR": {"IC", "DM", "IE", "NETHX", "PRTX", "MH", "ECOG", "VS", "LBHEM", "LBCHEM", "COAG"}
    | {"LVEF", "TUBL", "HEPAT"},
    "PETIV": {"PETIV"},
    "PETIAH": {"ANGIO", "PETIAH"},
    "CALL": {"CALL"},
    "THER": {"LUADM", "SCINT", "DOSI"},
    "W2": {"VS", "LBHEM", "LBCHEM", "AEREV"},
    "M3": {"VS", "LBHEM", "LBCHEM", "AEREV", "TRM3", "PETFU"},
    "M6": {"VS", "LBHEM", "LBCHEM", "AEREV", "TRM6", "PETFU"},
    "UNS": {"VS", "LBHEM", "LBCHEM", "AEREV"},
    "LOGS": {"AE", "SAE", "CM", "SSAINJ", "DV", "EOS", "DD"},
}


@pytest.mark.parametrize("oid", VISIT_CONTENT)
def test_each_visit_holds_the_forms_of_the_protocol_table(oid):
    visit = next(v for v in STUDY.visits if v.oid == oid)
    assert VISIT_CONTENT[oid] <= set(visit.forms)


def test_lab_values_carry_units_ranges_and_sdtm_test_codes():
    expected = {
        "LBHEM": {"HGB", "NEUT", "PLAT", "LYM", "WBC"},
        "LBCHEM": {"ALT", "AST", "BILI", "ALP", "GGT", "CREAT", "ALB", "CHROMGRA"},
        "COAG": {"PT", "INR"},
    }
    for form_oid, codes in expected.items():
        found = set()
        for _, item in form(form_oid).items():
            if item.sdtm and item.sdtm.startswith("LB.LBORRES["):
                found.add(item.sdtm[len("LB.LBORRES[") : -1])
                if item.multi_unit:  # ranges per unit, none on the item
                    assert item.hard is None, item.oid
                    assert all(u.hard is not None for u in item.measured_in), item.oid
                else:
                    assert item.hard is not None, item.oid
                    assert item.units or item.oid in ("INR", "APTTR"), item.oid
        assert codes <= found, form_oid


def test_creatinine_has_its_units_and_keeps_the_digits_entered():
    items = dict((i.oid, i) for _, i in form("LBCHEM").items())
    assert "CREATU" not in items  # the unit is chosen with the value, no longer an item
    creat = items["CREAT"]
    assert [(u.symbol, u.factor) for u in creat.measured_in] == [
        ("umol/L", 1),
        ("mg/dL", Decimal("88.42")),
    ]
    assert creat.precision is None and all(u.precision is None for u in creat.measured_in)
    assert items["CREATULN"].unit_of == "CREAT"


def test_the_labs_french_laboratories_report_in_other_units_have_them():
    items = {i.oid: i for f in ("LBHEM", "LBCHEM") for _, i in form(f).items()}
    expected = {
        "HGB": ["g/dL", "g/L"],
        "WBC": ["/mm3", "10*9/L"],
        "NEUT": ["/mm3", "10*9/L"],
        "LYM": ["/mm3", "10*9/L"],
        "PLAT": ["/mm3", "10*9/L"],
        "ALB": ["g/dL", "g/L"],
        "CREAT": ["umol/L", "mg/dL"],
        "BILI": ["umol/L", "mg/dL"],
    }
    for oid, symbols in expected.items():
        assert [u.symbol for u in items[oid].measured_in] == symbols, oid
        limit = items.get(f"{oid}LLN") or items[f"{oid}ULN"]
        assert limit.unit_of == oid
        assert [u.symbol for u in limit.measured_in] == symbols


def test_the_pregnancy_test_is_asked_of_women_only():
    items = dict((i.oid, i) for _, i in form("DM").items())
    for oid in ("CHILDPOT", "PREGRES", "BREASTF"):
        condition = items[oid].shown_when
        text = repr(condition)
        assert "SEX" in text and "'F'" in text, oid


def test_every_criterion_of_the_protocol_is_answered_on_the_checklist():
    ids = [c.id for c in CRITERIA]
    assert ids == [f"INC{n:02d}" for n in range(1, 13)] + [f"EXC{n:02d}" for n in range(1, 13)]
    assert {c.category for c in CRITERIA if c.id.startswith("INC")} == {INCLUSION}
    assert {c.category for c in CRITERIA if c.id.startswith("EXC")} == {EXCLUSION}
    checklist = {i.oid: i for _, i in form("IE").items()}
    for criterion in CRITERIA:
        assert criterion.item == f"SCR.IE.{criterion.id}"
        assert checklist[criterion.id].type is DataType.YES_NO
        assert checklist[criterion.id].required
    assert STUDY.eligibility is CRITERIA


def test_every_computable_criterion_reads_existing_items():
    loaded = load_study(STUDY)
    for criterion in CRITERIA:
        for ref in criterion.inputs:
            loaded.resolve("IE", ref)  # raises KeyError when unknown
        assert criterion.computable == bool(criterion.inputs)


def test_computable_criteria_raise_a_contradiction_check_on_the_checklist():
    names = {c.name for c in form("IE").checks}
    # and EXC07, not computed, asks about a high screening blood pressure
    assert names == {f"{c.id}_COMPUTED" for c in CRITERIA if c.computable} | {
        "EXC07_BLOOD_PRESSURE"
    }


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_forms_import_nothing_from_the_engine_or_the_reports():
    files = list(FORMS_DIR.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        assert not _imports(path) & {"ecrf", "reports", "flask", "sqlalchemy"}, path


def test_comparisons_and_uniqueness_are_declarations_the_engine_can_read():
    from forms.rules import Comparison, Uniqueness

    checks = [check for form in STUDY.forms for check in form.checks]
    comparisons = [c for c in checks if isinstance(c.function, Comparison)]
    uniqueness = [c for c in checks if isinstance(c.function, Uniqueness)]
    assert len(comparisons) >= 55 and len(uniqueness) >= 14
    assert {c.function.op for c in comparisons} == {"<", "<=", ">", ">=", "=="}
