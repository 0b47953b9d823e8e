"""`ecrf demo --subjects N --seed S`: synthetic IAH-PRRT patients at every stage, written
through the one write path (so audited, derived and checked), the same for the same seed."""

from __future__ import annotations

from datetime import date, timedelta
from statistics import median
from typing import NamedTuple

import pytest
import sqlalchemy as sa
from flask import Flask

from ecrf import create_app
from ecrf.crf.services import save_form
from ecrf.db import utcnow
from ecrf.demo import seed_demo
from ecrf.demo_data import seed_subjects
from ecrf.demo_seeding import DEMO_SITES, demo_actor, demo_decider
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import (
    Finding,
    FindingStatus,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Site,
    Subject,
    SubjectStatus,
    SubjectVisit,
)
from ecrf.sdv.demo import seed_demo_verification
from ecrf.signatures.demo import seed_demo_signatures
from forms.iahprrt import STUDY
from forms.language import DataType

COUNT, SEED = 12, 5
PARTIAL_DATE_ITEMS = {
    item.oid
    for form in STUDY.forms
    for _, item in form.items()
    if item.type is DataType.PARTIAL_DATE
}


def iahprrt_app(databases) -> Flask:
    url = databases.new_database()
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test secret key",
            "AUDIT_KEY": "test audit key",
            "AUDIT_CHECKPOINT_FILE": str(
                databases.workdir / f"audit_checkpoints_{url.rsplit('/', 1)[-1]}"
            ),
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_PROFILE": "cheapest",
            "STUDY_DEFINITION": "forms.iahprrt:STUDY",
            "STRICT_RULES": True,
        }
    )


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class Seeded(NamedTuple):
    app: Flask
    #: What the command printed.
    output: str
    #: The day the patients' histories end (the command's today); None if the seeding ran
    #: across midnight (UTC), which leaves it unknown.
    day: date | None


@pytest.fixture(scope="module")
def seeded(databases):
    """One database seeded by the command itself."""
    app = iahprrt_app(databases)
    before = utcnow().date()
    result = app.test_cli_runner().invoke(
        args=["demo", "--no-serve", "--subjects", str(COUNT), "--seed", str(SEED)]
    )
    after = utcnow().date()
    assert result.exit_code == 0, result.output
    yield Seeded(app, result.output, before if before == after else None)
    dispose(app)


def export() -> list[tuple]:
    """Every stored value, visit and status by what it means (identifiers, OIDs, keys),
    never by database ids or timestamps."""
    values = db.session.execute(
        sa.select(
            Subject.identifier,
            SubjectVisit.visit_oid,
            SubjectVisit.repeat_key,
            FormEntry.form_oid,
            FormEntry.status,
            FormEntry.version,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemGroupRow.removed,
            ItemGroupRow.removed_reason,
            ItemValue.item_oid,
            ItemValue.value_text,
            ItemValue.missing_code,
            ItemValue.derived,
        )
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .join(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
    ).all()
    visits = db.session.execute(
        sa.select(
            Subject.identifier,
            SubjectVisit.visit_oid,
            SubjectVisit.repeat_key,
            SubjectVisit.visit_date,
            SubjectVisit.out_of_window,
            SubjectVisit.deviation_reason,
        ).join(Subject)
    ).all()
    subjects = db.session.execute(
        sa.select(Subject.identifier, Subject.status, Subject.status_reason)
    ).all()
    findings = db.session.execute(
        sa.select(
            Subject.identifier,
            SubjectVisit.visit_oid,
            FormEntry.form_oid,
            Finding.group_oid,
            Finding.repeat_key,
            Finding.item_oid,
            Finding.check_name,
            Finding.status,
            Finding.message,
        )
        .join(Subject, Subject.id == Finding.subject_id)
        .join(FormEntry, FormEntry.id == Finding.entry_id)
        .join(SubjectVisit, SubjectVisit.id == FormEntry.visit_id)
    ).all()
    return [sorted(map(tuple, rows), key=repr) for rows in (values, visits, subjects, findings)]


def stored(item_oid: str, form_oid: str | None = None) -> list[ItemValue]:
    query = sa.select(ItemValue).where(ItemValue.item_oid == item_oid)
    if form_oid is not None:
        query = (
            query.join(ItemGroupRow, ItemGroupRow.id == ItemValue.row_id)
            .join(FormEntry, FormEntry.id == ItemGroupRow.entry_id)
            .where(FormEntry.form_oid == form_oid)
        )
    return list(db.session.scalars(query))


def test_every_stage_of_the_trial_is_seeded_at_the_demo_sites(seeded):
    app, output, _ = seeded
    with app.app_context():
        subjects = db.session.scalars(sa.select(Subject)).all()
        assert len(subjects) == COUNT
        assert {s.status for s in subjects} == set(SubjectStatus)
        assert {s.site.code for s in subjects} == {code for code, _ in DEMO_SITES}
        # Forms were entered at every stage: screening to M6, the logs, unscheduled visits.
        visits = set(db.session.scalars(sa.select(SubjectVisit.visit_oid)))
        assert {"SCR", "PETIV", "PETIAH", "CALL", "THER", "W2", "M3", "M6", "LOGS"} <= visits
        forms = set(db.session.scalars(sa.select(FormEntry.form_oid)))
        assert {"IE", "PETIAH", "LUADM", "DOSI", "TRM6", "AE", "SAE", "EOS", "DD"} <= forms
    summary = [line for line in output.splitlines() if line.startswith("Seeded ")]
    assert len(summary) == 1, output
    assert summary[0].startswith(f"Seeded {COUNT} demo subjects (")
    for status in SubjectStatus:
        assert status.label.lower() in summary[0]


def test_every_seeded_value_is_accounted_for_by_the_audit_trail(seeded):
    app, _, _ = seeded
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "the data and the trail agree both ways" in result.output


def test_screen_failures_carry_the_criteria_the_engine_found_not_met(seeded):
    app, _, _ = seeded
    with app.app_context():
        failures = db.session.scalars(
            sa.select(Subject).where(Subject.status == SubjectStatus.SCREEN_FAILURE)
        ).all()
        assert failures
        for subject in failures:
            assert "[criteria not met: " in subject.status_reason, subject.status_reason
        assert stored("SFCRIT", "EOS")  # derived on the end-of-study form


def test_the_data_hold_queries_deviations_missing_codes_and_partial_dates(seeded):
    app, _, _ = seeded
    with app.app_context():
        open_findings = db.session.scalars(
            sa.select(Finding).where(Finding.status == FindingStatus.OPEN)
        ).all()
        assert any(f.check_name.endswith("_GRADE3_AE") for f in open_findings)
        late = db.session.scalars(
            sa.select(SubjectVisit).where(SubjectVisit.out_of_window.is_(True))
        ).all()
        assert late and all(v.deviation_reason for v in late)
        assert stored("DVCAT", "DV")  # ... and logged as protocol deviations
        codes = set(
            db.session.scalars(
                sa.select(ItemValue.missing_code).where(ItemValue.missing_code.is_not(None))
            )
        )
        assert codes & {"ND", "UNK", "NA"}
        partial = [
            v
            for v in db.session.scalars(
                sa.select(ItemValue).where(ItemValue.item_oid.in_(PARTIAL_DATE_ITEMS - {"BRTHYM"}))
            )
            if v.value_text and len(v.value_text) < len("YYYY-MM-DD")
        ]
        assert partial
        # Grade ≥ 3 laboratory values with their adverse events; serious ones reported.
        assert any(int(v.value_text) >= 3 for v in stored("LYMGR") if v.value_text)
        assert stored("AELLTCD", "AE") and stored("SAESPID", "SAE")
        assert stored("DTHDAT", "DD")


def test_iah_uptake_mostly_exceeds_iv_uptake(seeded):
    app, _, _ = seeded
    with app.app_context():
        gains = [float(v.value_text) for v in stored("GSUVMAX", "PETIAH") if v.value_text]
        assert len(gains) >= 10
        assert sum(g > 1 for g in gains) >= 0.7 * len(gains)
        assert 1.5 <= median(gains) <= 3
        assert all(v.value_text for v in stored("MEDGAIN", "PETIAH"))


def test_the_pet_pairs_are_comparable_and_one_ssa_injection_falls_in_a_washout(seeded):
    app, _, _ = seeded
    with app.app_context():
        findings = db.session.scalars(
            sa.select(Finding).where(Finding.status == FindingStatus.OPEN)
        ).all()
        names = {f.check_name for f in findings}
        pair = {n for n in names if n.startswith("SAME_") or "SEGMENT_AS" in n}
        assert not pair and not {n for n in names if n.endswith("ON_PETIAH")}
        assert "SSA_BETWEEN_PETS" not in names
        washouts = {f.subject_id for f in findings if f.check_name.startswith("SSA_WASHOUT_")}
        assert len(washouts) == 1  # the patient given lanreotide 3 weeks before the PET-IV
        assert len(stored("SSADAT", "SSAINJ")) >= 3 * 8
        # Lesions in and out of the territory injected, each side with its gain.
        assert {v.value_text for v in stored("PERF", "PETIAH")} == {"Y", "N"}
        assert any(v.value_text for v in stored("MEDGAINNP", "PETIAH"))
        for item in ("READER", "RECON", "SUVNORM", "SCANNER"):
            assert all(v.value_text for v in stored(item, "PETIV") + stored(item, "PETIAH"))
        # Doses per GBq beside the absolute doses, cumulative organ doses.
        assert any(v.value_text for v in stored("ONIAH", "DOSI"))
        assert any(v.value_text for v in stored("KIDCUM", "DOSI"))


def test_a_second_run_adds_no_subject(seeded):
    app, _, _ = seeded
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--subjects", "3"])
    assert result.exit_code == 0, result.output
    assert f"the database already has {COUNT}; none added" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Subject)) == COUNT


def test_the_same_seed_gives_the_same_data(seeded, databases):
    """The command's patients, seeded again for the same day: the same data. (Seeded twice
    here when the command's day is unknown.)"""
    exports = []
    if seeded.day is not None:
        with seeded.app.app_context():
            exports.append(export())
    today = seeded.day or utcnow().date() - timedelta(days=1)
    while len(exports) < 2:
        app = iahprrt_app(databases)
        with app.app_context():
            accounts = seed_demo()
            db.session.commit()
            codes = [site.code for site in db.session.scalars(sa.select(Site).order_by(Site.id))]
            report = seed_subjects(
                current_study(),
                COUNT,
                SEED,
                codes,
                actor_for=demo_actor,
                decider_for=demo_decider,
                today=today,
            )
            assert report.subjects == COUNT
            # As the command: the demo monitor's verifications and the investigator's
            # signatures, and the site's corrections after them.
            seed_demo_verification(save_form)
            seed_demo_signatures([(a.username, a.password) for a in accounts], save_form)
            exports.append(export())
        dispose(app)
    assert exports[0] == exports[1]
    assert len(exports[0][0]) > 1000  # values


def test_no_subjects_requested_seeds_nothing(databases):
    app = iahprrt_app(databases)
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--subjects", "0"])
    assert result.exit_code == 0, result.output
    assert "No demo subjects requested." in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Subject)) == 0
    dispose(app)


def test_a_definition_without_a_generator_seeds_nothing(runner):
    # The test definition (tests/definitions/mini.py) ships no demo module.
    result = runner.invoke(args=["demo", "--no-serve", "--subjects", "5"])
    assert result.exit_code == 0, result.output
    assert "ships no demo data generator" in result.output
