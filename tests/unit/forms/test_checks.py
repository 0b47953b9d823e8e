"""Edit checks: each rule raises its message when broken, nothing otherwise or when the
data it needs are missing (STUDY.md, "Edit checks")."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal as D
from decimal import InvalidOperation

import pytest

from forms.iahprrt import STUDY
from forms.iahprrt import checks as ck
from forms.iahprrt.pregnancy import pregnancy_test_expected
from forms.language import Severity
from forms.values import PartialDate
from tests.trial_definition import check_named, form

P = PartialDate.parse


# --- dates and times -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "broken"),
    [
        (P("2025-03-10"), P("2025-03-09"), True),
        (P("2025-03-10"), P("2025-03-10"), False),
        (P("2025-03-10"), P("2025-03"), False),  # could be the 31st
        (P("2025-03"), P("2025-02-28"), True),
        (P("2025-03"), P("2025"), False),
        (P("2025-03-10"), None, False),
    ],
)
def test_ae_end_not_before_start(start, end, broken):
    check = check_named("AE", "AE_END_AFTER_START")
    assert (check.function({"AESTDAT": start, "AEENDAT": end}) is not None) is broken


def test_the_ae_end_date_check_rejects():
    check = check_named("AE", "AE_END_AFTER_START")
    assert check.severity is Severity.REJECT
    assert check.function({"AESTDAT": P("2025-03-10"), "AEENDAT": P("2025-03-01")})


@pytest.mark.parametrize(
    ("iah", "iv", "broken"),
    [
        (date(2025, 4, 7), date(2025, 3, 31), False),
        (date(2025, 4, 7), date(2025, 4, 7), True),  # same day: not after
        (date(2025, 4, 7), date(2025, 4, 8), True),
        (date(2025, 4, 7), None, False),
    ],
)
def test_pet_iah_after_pet_iv(iah, iv, broken):
    check = check_named("PETIAH", "PETIAH_AFTER_PETIV")
    assert check.inputs == ("PETDAT", "PETIV.PETIV.PETDAT")
    assert (check.function({"PETDAT": iah, "PETIV.PETIV.PETDAT": iv}) is not None) is broken


@pytest.mark.parametrize(
    ("injection", "acquisition", "broken"),
    [
        (time(9, 10), time(10, 10), False),
        (time(9, 10), time(9, 10), True),
        (time(9, 10), time(9, 0), True),
    ],
)
def test_acquisition_after_injection_is_rejected_otherwise(injection, acquisition, broken):
    for oid in ("PETIV", "PETIAH", "PETFU"):
        check = check_named(oid, "ACQUISITION_AFTER_INJECTION")
        assert check.severity is Severity.REJECT
        found = check.function({"INJTIM": injection, "ACQTIM": acquisition})
        assert (found is not None) is broken


def test_birth_date_is_month_and_year_only():
    assert ck.birth_month_and_year(P("1960-05")) is None
    assert "month" in ck.birth_month_and_year(P("1960"))
    assert "leave the day out" in ck.birth_month_and_year(P("1960-05-12"))


# --- PET uptake ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mean", "maximum", "broken"),
    [
        (D("12.00"), D("20.00"), False),
        (D("20.00"), D("20.00"), False),
        (D("20.01"), D("20.00"), True),
    ],
)
def test_suvmean_not_above_suvmax_is_rejected(mean, maximum, broken):
    for form_oid, name, mean_oid, max_oid in (
        ("PETIV", "IDX_SUVMEAN_LE_SUVMAX", "SUVMEAN", "SUVMAX"),
        ("PETIAH", "EXH_SUVMEAN_LE_SUVMAX", "XSUVMEAN", "XSUVMAX"),
        ("PETIAH", "KID_SUVMEAN_LE_SUVMAX", "KIDSUVMEAN", "KIDSUVMAX"),
    ):
        check = check_named(form_oid, name)
        assert check.severity is Severity.REJECT
        assert (check.function({mean_oid: mean, max_oid: maximum}) is not None) is broken


def test_lesion_identifiers_are_unique_across_the_index_and_extra_hepatic_tables():
    check = check_named("PETIV", "IDX_ID_UNIQUE")
    rows = [{"LESID": "L1"}, {"LESID": "L2"}]
    values = {"LESID": "L1", "PETIV.PETIV.IDX[]": rows, "PETIV.PETIV.EXH[]": []}
    assert check.function(values) is None
    assert check.function({**values, "PETIV.PETIV.IDX[]": [*rows, {"LESID": "l1"}]})
    assert check.function({**values, "PETIV.PETIV.EXH[]": [{"XLESID": "L1"}]})


def test_an_iah_lesion_missing_on_the_iv_pet_is_queried():
    check = check_named("PETIAH", "IDX_ON_PETIV")
    assert check.function({"LESID": "L1", "PETIV.PETIV.IDX[]": [{"LESID": "L1"}]}) is None
    assert "L9" in check.function({"LESID": "L9", "PETIV.PETIV.IDX[]": [{"LESID": "L1"}]})


# --- 177Lu administration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("administered", "prescribed", "broken"),
    [
        (D("6660"), D("7400"), False),  # −10.0 %
        (D("8140"), D("7400"), False),  # +10.0 %
        (D("6659"), D("7400"), True),  # −10.01 %
        (D("8141"), D("7400"), True),
        (None, D("7400"), False),
    ],
)
def test_administered_activity_within_10_percent_of_prescribed(administered, prescribed, broken):
    check = check_named("LUADM", "ACTIVITY_WITHIN_10PCT")
    found = check.function({"ADMACT": administered, "PRESACT": prescribed})
    assert (found is not None) is broken


def test_renal_protection_starts_first():
    check = check_named("LUADM", "RENAL_PROTECTION_FIRST")
    assert check.function({"RPSTTIM": time(9, 30), "EXSTTIM": time(10, 0)}) is None
    assert check.function({"RPSTTIM": time(10, 30), "EXSTTIM": time(10, 0)})


@pytest.mark.parametrize(
    ("test", "sex", "childbearing", "broken"),
    [
        ("NA", "F", "Y", True),
        ("NEG", "F", "Y", False),
        ("POS", "F", "Y", True),
        ("NA", "M", None, False),
        ("NEG", "M", None, True),
        ("NA", "F", "N", False),
    ],
)
def test_pregnancy_test_before_administration(test, sex, childbearing, broken):
    assert (pregnancy_test_expected(test, sex, childbearing) is not None) is broken


@pytest.mark.parametrize(
    ("hours", "broken"),
    [(D("24.0"), False), (D("20.0"), False), (D("28.5"), True), (D("-1"), True)],
)
def test_post_therapy_scan_about_24_hours_after(hours, broken):
    check = check_named("SCINT", "ABOUT_24H")
    assert (check.function({"SCHRS": hours}) is not None) is broken


# --- labs ------------------------------------------------------------------------------------

SCREENING = date(2025, 3, 5)
SAMPLE = date(2025, 5, 19)


def _ae(term="10002272", grade="3", start="2025-05-15", end=None):
    """An adverse event coded with CTCAE ``term`` (MedDRA code; default: Anemia)."""
    return {
        "AELLTCD": term,
        "AETOXGR": grade,
        "AESTDAT": P(start),
        "AEENDAT": P(end) if end else None,
    }


@pytest.mark.parametrize(
    ("grade", "sample", "rows", "broken"),
    [
        (3, SAMPLE, [], True),
        (4, SAMPLE, [_ae()], False),
        (3, SAMPLE, [_ae(term="10035528")], True),  # another term (platelets)
        (3, SAMPLE, [_ae(term="ANEMIA")], True),  # the lab form's code, not a MedDRA one
        (3, SAMPLE, [_ae(grade="2")], True),  # graded lower in the log
        (3, SAMPLE, [_ae(start="2025-05-20")], True),  # starts after the sample
        (3, SAMPLE, [_ae(start="2025-05-01", end="2025-05-10")], True),  # ended before
        (3, SAMPLE, [_ae(start="2025-05", end="2025-05")], False),  # partial dates cover
        (2, SAMPLE, [], False),
        (3, SCREENING, [], False),  # the screening sample is baseline: medical history
        (None, SAMPLE, [], False),
    ],
)
def test_grade_3_lab_value_without_a_matching_adverse_event(grade, sample, rows, broken):
    check = check_named("LBHEM", "HGB_GRADE3_AE")
    assert check.inputs == ("HGBGR", "LBDAT", "SCR.LBHEM.LBDAT", "LOGS.AE.AE[]")
    values = {"HGBGR": grade, "LBDAT": sample, "SCR.LBHEM.LBDAT": SCREENING, "LOGS.AE.AE[]": rows}
    assert (check.function(values) is not None) is broken


def test_every_graded_lab_has_its_adverse_event_query():
    names = {c.name for c in form("LBHEM").checks} | {c.name for c in form("LBCHEM").checks}
    for analyte in ("HGB", "NEUT", "PLAT", "LYM", "WBC", "ALT", "AST", "BILI", "ALP", "GGT"):
        assert f"{analyte}_GRADE3_AE" in names
    assert {"CREAT_GRADE3_AE", "ALB_GRADE3_AE"} <= names


@pytest.mark.parametrize(
    ("value", "unit", "plausible", "usual"),
    [
        (D("85"), "umol/L", True, True),
        (D("0.95"), "mg/dL", True, True),
        (D("85"), "mg/dL", False, False),  # µmol/L value with the wrong unit
        (D("0.95"), "umol/L", False, False),
        (D("300"), "umol/L", True, False),
        (D("85"), None, True, True),  # no unit given: the standard unit, µmol/L
    ],
)
def test_creatinine_ranges_follow_the_unit(value, unit, plausible, usual):
    creat = next(i for i in form("LBCHEM").groups[0].items if i.oid == "CREAT")
    chosen = creat.unit(unit)
    assert chosen.hard.contains(value) is plausible
    assert chosen.soft.contains(value) is usual
    assert creat.hard is None and creat.soft is None  # the ranges are the units'
    assert [u.symbol for u in creat.measured_in] == ["umol/L", "mg/dL"]


def test_diastolic_below_systolic():
    check = check_named("VS", "DIASTOLIC_BELOW_SYSTOLIC")
    assert check.function({"SYSBP": 120, "DIABP": 80}) is None
    assert check.function({"SYSBP": 80, "DIABP": 80}) == (
        "Diastolic pressure (80 mmHg) must be below systolic (80 mmHg)."
    )


def test_differential_within_the_leucocyte_count():
    assert ck.differential_within_total(3000, 1000, 5000) is None
    assert ck.differential_within_total(4500, 1000, 5000)
    assert ck.differential_within_total(None, None, 5000) is None


def test_eligibility_samples_follow_the_last_cycle():
    cycles = [{"EXSTDAT": date(2024, 12, 1)}, {"EXSTDAT": date(2024, 10, 1)}]
    assert ck.sample_after_last_cycle(date(2025, 3, 5), cycles) is None
    assert ck.sample_after_last_cycle(date(2024, 11, 5), cycles)


@pytest.mark.parametrize(
    ("grade", "ki67", "broken"),
    [
        ("G1", D("2.9"), False),
        ("G1", D("3"), True),
        ("G2", D("20"), False),
        ("G2", D("20.1"), True),
        ("G3", D("25"), False),
    ],
)
def test_ki67_matches_the_who_grade(grade, ki67, broken):
    assert (ck.ki67_matches_grade(grade, ki67) is not None) is broken


def test_lutathera_cycles_unique_and_in_order():
    rows = [{"CYCLE": 1, "EXSTDAT": date(2024, 6, 1)}, {"CYCLE": 2, "EXSTDAT": date(2024, 8, 1)}]
    assert ck.cycles_in_order(3, date(2024, 10, 1), rows) is None
    assert ck.cycles_in_order(3, date(2024, 7, 1), rows)
    once = check_named("PRTX", "CYCLE_ONCE")
    twice = once.function({"CYCLE": 2, "SCR.PRTX.LUT[]": [*rows, {"CYCLE": 2}]})
    assert twice == "Cycle 2 is used more than once."
    assert once.function({"CYCLE": 2, "SCR.PRTX.LUT[]": rows}) is None


def test_a_prior_cycle_number_is_given_once():
    check = check_named("PRTX", "CYCLE_ONCE")
    assert check.severity is Severity.REJECT
    rows = [{"CYCLE": 1}, {"CYCLE": 2}]
    assert check.function({"CYCLE": 2, "SCR.PRTX.LUT[]": rows}) is None
    found = check.function({"CYCLE": 2, "SCR.PRTX.LUT[]": [*rows, {"CYCLE": 2}]})
    assert found == "Cycle 2 is used more than once."


# --- RECIST ---------------------------------------------------------------------------------


def test_follow_up_lesions_come_from_the_baseline():
    check = check_named("TRM3", "TARGET_FROM_BASELINE")
    assert check.severity is Severity.REJECT
    baseline = [{"LESID": "L1"}]
    assert check.function({"LESID": "L1", "SCR.TUBL.TL[]": baseline}) is None
    assert check.function({"LESID": "L7", "SCR.TUBL.TL[]": baseline})


def test_the_radiologist_s_response_is_compared_with_the_derived_one():
    assert ck.differs_from_derived("Overall response", "SD", "PR") == (
        "Overall response: the radiologist reads stable disease, the RECIST 1.1 derivation"
        " from the measurements gives partial response: are the measurements or the reading"
        " to be corrected?"
    )
    assert ck.differs_from_derived("Overall response", "PR", "PR") is None
    assert ck.differs_from_derived("Overall response", "PR", None) is None


def test_baseline_targets_at_most_two_per_organ_and_measurable_are_rejected():
    assert check_named("TUBL", "TWO_PER_ORGAN").severity is Severity.REJECT
    measurable = check_named("TUBL", "TARGET_MEASURABLE")
    assert measurable.severity is Severity.REJECT
    assert measurable.function({"ORGAN": "NODE", "DIAM": 14})
    assert measurable.function({"ORGAN": "NODE", "DIAM": 15}) is None


# --- safety logs ---------------------------------------------------------------------------


def test_a_serious_adverse_event_needs_its_sae_report():
    assert ck.serious_needs_report("Y", 3, [])
    assert ck.serious_needs_report("Y", 3, [{"SAESPID": 3}]) is None
    assert ck.serious_needs_report("Y", 3, [{"SAESPID": 4}])
    assert ck.serious_needs_report("N", 3, []) is None
    assert check_named("AE", "SAE_REPORTED").severity is Severity.WARN


def test_a_serious_adverse_event_ticks_a_criterion():
    assert ck.serious_needs_criterion("Y", "N", None, "N")
    assert ck.serious_needs_criterion("Y", "N", "Y") is None


@pytest.mark.parametrize(
    ("aware", "aware_time", "sent", "sent_time", "late"),
    [
        (date(2025, 5, 1), time(10, 0), date(2025, 5, 2), time(10, 0), False),  # exactly 24 h
        (date(2025, 5, 1), time(10, 0), date(2025, 5, 2), time(10, 1), True),
        (date(2025, 5, 1), None, date(2025, 5, 2), None, False),  # dates only: next day
        (date(2025, 5, 1), None, date(2025, 5, 3), None, True),
        (date(2025, 5, 2), None, date(2025, 5, 1), None, True),  # sent before aware
    ],
)
def test_sae_report_within_24_hours(aware, aware_time, sent, sent_time, late):
    assert (ck.report_within_24h(aware, aware_time, sent, sent_time) is not None) is late


def test_an_sae_report_refers_to_a_serious_adverse_event_of_the_log():
    rows = [{"AESPID": 1, "AESER": "Y"}, {"AESPID": 2, "AESER": "N"}]
    assert ck.report_links_ae(1, rows) is None
    assert "not marked serious" in ck.report_links_ae(2, rows)
    assert "No adverse event" in ck.report_links_ae(3, rows)


def test_death_forces_the_end_of_study_form():
    check = check_named("DD", "END_OF_STUDY")
    assert check.inputs == ("DTHDAT", "LOGS.EOS.EOSSTAT")
    assert check.function({"DTHDAT": date(2025, 6, 1), "LOGS.EOS.EOSSTAT": None})
    assert check.function({"DTHDAT": date(2025, 6, 1), "LOGS.EOS.EOSSTAT": "COMPLETED"})
    assert check.function({"DTHDAT": date(2025, 6, 1), "LOGS.EOS.EOSSTAT": "DEATH"}) is None
    assert ck.end_of_study_death("DEATH", None)
    assert ck.death_needs_form("FATAL", None, None)
    assert ck.death_needs_form("FATAL", None, date(2025, 6, 1)) is None


def test_grade_5_and_fatal_outcome_go_together():
    assert ck.fatal_consistent("5", "RECOVERED")
    assert ck.fatal_consistent("3", "FATAL")
    assert ck.fatal_consistent("5", "FATAL") is None


def test_completion_matches_the_study_part():
    assert ck.completion_consistent("COMPLETED", "Y", date(2025, 4, 21), None)
    assert ck.completion_consistent("COMPLETED", "Y", None, date(2025, 11, 1)) is None
    assert ck.completion_consistent("COMPLETED", "N", None, None)
    assert ck.completion_consistent("COMPLETED", "N", date(2025, 4, 21), None) is None
    assert ck.call_ends_study("N", None)
    assert ck.call_ends_study("Y", None) is None


def test_adverse_events_before_consent_are_queried():
    assert ck.ae_before_consent(P("2025-02"), date(2025, 3, 3))
    assert ck.ae_before_consent(P("2025-03"), date(2025, 3, 3)) is None


def test_a_check_given_values_it_cannot_combine_raises_for_the_engine_to_report():
    # Typed values never do this: only a bug of the definition (the engine logs it, or stops
    # the save under STRICT_RULES) instead of silently raising no query.
    check = check_named("LUADM", "ACTIVITY_WITHIN_10PCT")
    with pytest.raises(InvalidOperation):
        check.function({"ADMACT": "lots", "PRESACT": D("7400")})


def test_every_declared_finding_asks_the_site_a_question():
    """A finding that stays open as a query is worded as a question to the site; a refusal
    (REJECT) says what to enter instead."""
    unasked = [
        (definition.oid, rule.name)
        for definition in STUDY.forms
        for rule in definition.checks
        if rule.severity is Severity.WARN
        and isinstance(getattr(rule.function, "message", None), str)
        and "?" not in rule.function.message
    ]
    assert unasked == []


@pytest.mark.parametrize(
    "message",
    [
        ck.unit_needed(5, None),
        ck.differential_within_total(3000, 2000, 4000),
        ck.lab_grade_without_ae("ANEMIA", 3, date(2025, 3, 1), date(2025, 1, 1), []),
        ck.sample_after_last_cycle(date(2024, 1, 1), [{"EXSTDAT": date(2024, 6, 1)}]),
        ck.ki67_matches_grade("G1", D(10)),
        ck.lesion_on_pet("L9", [], []),
        ck.lesions_declared("N", [{"LESID": "L1"}], []),
        ck.lesions_declared("Y", [], []),
        ck.differs_from_derived("Overall response", "SD", "PR"),
        ck.cycles_in_order(2, date(2024, 1, 1), [{"CYCLE": 1, "EXSTDAT": date(2024, 2, 1)}]),
        ck.activity_within(10, D(8000), D(7400) - D(1000)),
        ck.hours_within("Scintigraphy", 20, 28, D(40)),
        pregnancy_test_expected("NA", "F", "Y"),
        pregnancy_test_expected("NEG", "M", None),
        pregnancy_test_expected("POS", "F", "Y"),
        ck.ae_before_consent(date(2024, 1, 1), date(2024, 2, 1)),
        ck.serious_needs_report("Y", 1, []),
        ck.serious_needs_criterion("Y", "N", None),
        ck.fatal_consistent("5", "RECOVERED"),
        ck.fatal_consistent("3", "FATAL"),
        ck.death_needs_form("FATAL", None, None),
        ck.report_within_24h(date(2024, 1, 2), None, date(2024, 1, 1), None),
        ck.report_within_24h(date(2024, 1, 1), time(8), date(2024, 1, 2), time(9)),
        ck.report_links_ae(3, [{"AESPID": 3, "AESER": "N"}]),
        ck.report_links_ae(3, []),
        ck.death_forces_end_of_study(date(2024, 1, 1), None),
        ck.death_forces_end_of_study(date(2024, 1, 1), "COMPLETED"),
        ck.end_of_study_death("DEATH", None),
        ck.completion_consistent("COMPLETED", "Y", None, None),
        ck.completion_consistent("COMPLETED", "N", None, None),
        ck.call_ends_study("N", None),
        ck.review_needs_log("Y", []),
    ],
)
def test_each_finding_of_the_trial_s_checks_is_a_question(message):
    assert message and "?" in message
