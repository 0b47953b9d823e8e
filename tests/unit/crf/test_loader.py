"""The definition loader: the mini study loads; broken definitions stop start-up by name."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ecrf.records.loader import DefinitionError, _canonical, import_study, load_study
from forms.language import (
    Check,
    DataType,
    Derivation,
    Item,
    OptionsBy,
    Range,
    Visit,
    When,
)
from tests.definitions import mini
from tests.definitions.edit import add_item, replace_form, replace_item
from tests.definitions.mini import STUDY


def problems_of(study) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_study(study)
    assert str(caught.value).startswith("study definition invalid:")
    return caught.value.problems


def test_the_mini_study_loads_with_its_lookups():
    loaded = load_study(STUDY)
    assert loaded.version == "1.0"
    assert list(loaded.visits) == ["SCR", "BASE", "TX", "FU", "UNS", "LOGS"]
    group, item = loaded.item("LES", "SUVMAX")
    assert (group.oid, group.repeating, item.precision) == ("LESION", True, 2)
    assert loaded.codelist_for(loaded.item("DM", "PREG")[1]).oid == "NY"
    assert loaded.codelist_for(loaded.item("DM", "SEX")[1]).oid == "SEX"
    cross = loaded.resolve("DM", "SCR.ENR.ENRDAT")
    assert (cross.visit, cross.form, cross.item, cross.local) == ("SCR", "ENR", "ENRDAT", False)
    rows = loaded.resolve("LB", "LOGS.AE.AE[]")
    assert (rows.visit, rows.form, rows.group) == ("LOGS", "AE", "AE")
    with pytest.raises(KeyError):
        loaded.resolve("DM", "SCR.LES.SUVMAX")  # LES is not a form of SCR


def test_the_digest_is_stable_and_follows_the_content():
    digest = load_study(STUDY).digest
    assert len(digest) == 64 and digest == load_study(STUDY).digest
    relabelled = replace_item(STUDY, "DM", "WEIGHT", label="Body weight")
    assert load_study(relabelled).digest != digest


def test_the_application_refuses_to_start_on_a_broken_definition(make_app, monkeypatch):
    broken = replace(
        STUDY, visits=(*STUDY.visits, Visit("EXTRA", "Extra", ("XX",), reference="D0"))
    )
    monkeypatch.setattr(mini, "BROKEN", broken, raising=False)
    with pytest.raises(DefinitionError, match="visit EXTRA: unknown form XX"):
        make_app(STUDY_DEFINITION="tests.definitions.mini:BROKEN")


def test_importing_something_that_is_not_a_study_is_refused():
    with pytest.raises(DefinitionError, match=r"is not a forms\.language\.Study"):
        import_study("tests.definitions.mini:SEX")


BROKEN = [
    pytest.param(
        lambda s: replace(
            s,
            visits=tuple(
                replace(v, forms=(*v.forms, "VS")) if v.oid == "SCR" else v for v in s.visits
            ),
        ),
        "visit SCR: unknown form VS",
        id="unknown form in a visit",
    ),
    pytest.param(
        lambda s: replace_item(s, "DM", "SEX", codelist="GENDER"),
        "form DM, item SEX: unknown code list GENDER",
        id="unknown code list",
    ),
    pytest.param(
        lambda s: add_item(s, "DM", Item("WEIGHT", "Weight again", DataType.INTEGER)),
        "duplicate item OID WEIGHT in form DM",
        id="duplicate item OID",
    ),
    pytest.param(
        lambda s: replace(s, visits=(*s.visits, replace(s.visits[0], name="Screening again"))),
        "duplicate visit OID SCR",
        id="duplicate visit OID",
    ),
    pytest.param(
        lambda s: replace_item(s, "DM", "WEIGHT", soft=Range(10, 150)),
        "form DM, item WEIGHT: soft range reaches outside the hard range",
        id="soft range outside hard range",
    ),
    pytest.param(
        lambda s: replace_item(s, "DM", "HEIGHT", hard=Range(230, 100)),
        "form DM, item HEIGHT: hard range low 230 > high 100",
        id="low above high",
    ),
    pytest.param(
        lambda s: replace_form(
            s,
            "DM",
            derivations=(
                Derivation("BMI", ("WEIGHT", "HEIGTH"), mini.bmi, "w/h²"),
                *s.forms[1].derivations[1:],
            ),
        ),
        "form DM, derivation of BMI: unknown input HEIGTH",
        id="unknown input of a derivation",
    ),
    pytest.param(
        lambda s: replace_form(
            s,
            "LB",
            checks=(Check("HGB_AE", "HGB", ("HGB", "LOGS.AE.EVENTS[]"), mini.low_hgb_needs_ae),),
        ),
        "form LB, check HGB_AE: unknown input LOGS.AE.EVENTS[]",
        id="unknown input of a check",
    ),
    pytest.param(
        lambda s: replace_form(
            s,
            "LB",
            checks=(Check("HGB_AE", "HB", ("HGB",), mini.low_hgb_needs_ae),),
        ),
        "form LB, check HGB_AE: unknown target item HB",
        id="unknown target of a check",
    ),
    pytest.param(
        lambda s: replace_item(s, "DM", "PREG", shown_when=When("GENDER", "eq", "F")),
        "form DM, item PREG: shown_when refers to unknown item GENDER",
        id="unknown item in a condition",
    ),
    pytest.param(
        lambda s: replace_item(s, "DM", "PREG", shown_when=When("SEX", "eq", 1)),
        "form DM, item PREG: the condition on SEX (choice) compares it with 1",
        id="condition value of another type",
    ),
    pytest.param(
        lambda s: replace_item(s, "DM", "PREG", shown_when=When("WEIGHT", "in", ("70",))),
        "form DM, item PREG: the condition on WEIGHT (decimal) compares it with ('70',)",
        id="condition list of another type",
    ),
    pytest.param(
        lambda s: replace_item(s, "DM", "PREG", required_when=When("SEX", "equals", "F")),
        "form DM, item PREG: unknown condition operator 'equals'",
        id="unknown condition operator",
    ),
    pytest.param(
        lambda s: replace_form(s, "DM", derivations=s.forms[1].derivations[:1]),
        "form DM, item AGE: derived=True but no derivation computes it",
        id="derived item without derivation",
    ),
    pytest.param(
        lambda s: replace(
            s, visits=tuple(replace(v, reference=None) if v.oid == "FU" else v for v in s.visits)
        ),
        "visit FU: a scheduled visit needs a reference event",
        id="scheduled visit without reference",
    ),
    pytest.param(
        lambda s: replace(
            s, visits=tuple(replace(v, reference="T1") if v.oid == "FU" else v for v in s.visits)
        ),
        "visit FU: unknown reference event T1",
        id="unknown reference event",
    ),
    pytest.param(
        lambda s: replace(
            s,
            references=(
                replace(s.references[0], sources=("visit:BASE", "SCR.ENR.D0PLAM")),
                s.references[1],
            ),
        ),
        "reference D0: unknown source SCR.ENR.D0PLAM",
        id="unknown source of a reference",
    ),
    pytest.param(
        lambda s: replace(s, subgroups=(replace(s.subgroups[0], item="SCR.ENR.THERAPIE"),)),
        "sub-group THERAPY: unknown item SCR.ENR.THERAPIE",
        id="unknown item of a sub-group",
    ),
    pytest.param(
        lambda s: replace(s, critical_forms=("VS", "AEX")),
        "critical forms: unknown form AEX",
        id="unknown critical form",
    ),
    pytest.param(
        lambda s: replace(s, sdv_sample_percent=120),
        "source verification: sdv_sample_percent must be a whole number from 0 to 100, not 120",
        id="verification percentage above 100",
    ),
    pytest.param(
        lambda s: replace(s, sdv_sample_percent=12.5),
        "source verification: sdv_sample_percent must be a whole number from 0 to 100, not 12.5",
        id="verification percentage not whole",
    ),
    pytest.param(
        lambda s: replace_item(
            s, "LES", "SUVMEAN", hard=None, soft=Range(0, 200), type=DataType.TEXT
        ),
        "form LES, item SUVMEAN: soft range on a non-numeric item",
        id="range on a text item",
    ),
]


@pytest.mark.parametrize(("breaking", "problem"), BROKEN)
def test_a_broken_definition_fails_naming_the_problem(breaking, problem):
    assert problem in problems_of(breaking(STUDY))


def test_every_problem_is_listed_at_once():
    broken = replace_item(
        replace_item(STUDY, "DM", "SEX", codelist="GENDER"), "DM", "HEIGHT", hard=Range(230, 100)
    )
    problems = problems_of(broken)
    assert "form DM, item SEX: unknown code list GENDER" in problems
    assert "form DM, item HEIGHT: hard range low 230 > high 100" in problems


def _with_summary(form_oid: str, group_oid: str, summary) -> object:
    form = next(f for f in STUDY.forms if f.oid == form_oid)
    groups = tuple(replace(g, summary=summary) if g.oid == group_oid else g for g in form.groups)
    return replace(
        STUDY, forms=tuple(replace(f, groups=groups) if f is form else f for f in STUDY.forms)
    )


def test_a_log_summary_names_items_of_its_own_repeating_group_with_headings():
    assert load_study(_with_summary("AE", "AE", (("AETERM", "Event"),)))
    problems = problems_of(
        _with_summary("AE", "AE", (("AETERM", "Event"), ("SUVMAX", "SUV"), ("AETERM", " ")))
    )
    assert "form AE, group AE: the summary names SUVMAX, not an item of the group" in problems
    assert "form AE, group AE: the summary column of AETERM has no heading" in problems
    assert "duplicate summary item OID AETERM in form AE, group AE" in problems
    single = next(g for f in STUDY.forms for g in f.groups if not g.repeating)
    form = next(f for f in STUDY.forms if single in f.groups)
    first = single.items[0].oid
    assert any(
        "only a repeating group has a summary line per row" in p
        for p in problems_of(_with_summary(form.oid, single.oid, ((first, "First"),)))
    )


def _pregnancy_answers() -> dict[str, tuple[str, ...]]:
    return {"F": ("Y", "N"), "M": ("N",)}


def _answers_of_no_sex() -> dict[str, tuple[str, ...]]:
    return {"X": ("N",)}


def _answers_not_in_the_list() -> dict[str, tuple[str, ...]]:
    return {"M": ("MAYBE",)}


def test_a_choice_may_offer_its_codes_by_another_choice_of_its_row():
    study = replace_item(STUDY, "DM", "PREG", options_by=OptionsBy("SEX", _pregnancy_answers))
    item = load_study(study).item("DM", "PREG")[1]
    assert item.options_by.table()["M"] == ("N",)


@pytest.mark.parametrize(
    ("options_by", "problem"),
    [
        (
            OptionsBy("WEIGHT", _pregnancy_answers),
            "form DM, group DM, item PREG: options_by WEIGHT: both items must be choices of the"
            " same group",
        ),
        (
            OptionsBy("SEX", _answers_of_no_sex),
            "form DM, group DM, item PREG: options_by SEX: X → ('N',) is not in the code lists",
        ),
        (
            OptionsBy("SEX", _answers_not_in_the_list),
            "form DM, group DM, item PREG: options_by SEX: M → ('MAYBE',) is not in the code lists",
        ),
    ],
    ids=["not-a-choice", "unknown-key", "unknown-code"],
)
def test_options_by_another_item_are_checked_at_start_up(options_by, problem):
    study = replace_item(STUDY, "DM", "PREG", options_by=options_by)
    assert problem in problems_of(study)


def test_the_fingerprint_leaves_out_what_is_left_at_its_default():
    # A field the language gains later changes no definition that does not use it.
    assert _canonical(Item("X", "Label", DataType.TEXT)) == {
        "oid": "X",
        "label": "Label",
        "type": "text",
    }
    assert _canonical(Item("X", "Label", DataType.TEXT, max_length=8))["max_length"] == 8
