"""A save reads with the subject only the entries its rules, gates and windows can read
(``ecrf.crf.save.reads``, from the definition); the others' values are read only if a
step reads them after all, in one statement, and are then the same values."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecrf.crf.save.outcome import StaleEntry, ValidationFailed
from ecrf.crf.save.plan import Submitted
from ecrf.crf.save.reads import save_reads
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.loader import current_study, load_study
from ecrf.records.models import Subject
from forms.iahprrt import STUDY
from forms.language import DataType
from tests.seeded_trial import dispose, seed, trial_app

TRIAL = load_study(STUDY)
NUMBERS = (DataType.DECIMAL, DataType.INTEGER)

SCREENING = {"COAG", "ECOG", "HEPAT", "IE", "LVEF", "NETHX"}


def test_a_lab_form_saved_at_follow_up_reads_neither_the_screening_forms_nor_the_pet():
    reads = save_reads(TRIAL, "M6", "LBHEM")
    forms = {form for _, form in reads}
    assert not forms & (SCREENING | {"PETIAH", "PETIV", "DOSI"})
    # its own entry, the consent (gate), the end of study (date bounds), the AE log (its
    # grade-3 checks), the baseline of its analytes at screening
    assert {("M6", "LBHEM"), ("SCR", "IC"), ("LOGS", "EOS"), ("LOGS", "AE")} <= reads
    assert ("SCR", "LBHEM") in reads


def test_the_screening_lab_form_reads_what_the_screen_failure_check_reads():
    reads = save_reads(TRIAL, "SCR", "LBHEM")
    assert {("SCR", form) for form in SCREENING} <= reads


@pytest.fixture(scope="module")
def trial(databases):
    app = trial_app(databases)
    seed(app, count=8, seed_value=31)
    yield app
    dispose(app)


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def beyond():
    """What ``SubjectData.load`` logs when a caller reads beyond the entries it named."""
    handler, logger = _Kept(), logging.getLogger("ecrf.records.data")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(level)


def _moved(study, entry) -> Submitted:
    """Every entered number of the entry's single rows moved by one step (a change that
    reaches every rule reading it, here or in another form)."""
    submitted: Submitted = {}
    for group in study.forms[entry.form_oid].groups:
        row = entry.rows.get((group.oid, 1))
        if group.repeating or row is None:
            continue
        for item in group.items:
            value = row.values.get(item.oid)
            if item.derived or item.multi_unit or item.type not in NUMBERS or value is None:
                continue
            step = Decimal(1).scaleb(-(item.precision or 0))
            submitted.setdefault((group.oid, 1), {})[item.oid] = str(value + step)
    return submitted


def test_a_save_of_any_form_of_the_demo_patients_reads_no_entry_beyond_its_scope(trial, beyond):
    saved = 0
    with trial.app_context():
        study = current_study()
        for subject_id in db.session.scalars(sa.select(Subject.id).order_by(Subject.id)).all():
            # Every save is rolled back: the subject's entries read once hold each save's
            # values and version.
            entries = SubjectData.load(study, db.session.get(Subject, subject_id)).entries
            saves = [
                (key, _moved(study, entry), entry.entry.version)
                for key, entry in sorted(entries.items())
            ]
            db.session.rollback()
            for (visit_oid, repeat, form_oid), submitted, version in saves:
                db.session.expunge_all()  # the save reads afresh, as a request's would
                subject = db.session.get(Subject, subject_id)
                try:
                    save_form(
                        study,
                        subject,
                        visit_oid,
                        form_oid,
                        submitted,
                        actor=None,
                        expected_version=version,
                        reason="Corrected from the source.",
                        visit_repeat=repeat,
                    )
                    saved += 1
                except (ValidationFailed, StaleEntry):
                    pass  # refused after its rules ran: what it read is what counts
                db.session.rollback()
    assert saved > 100
    assert [record.getMessage() for record in beyond] == []


def test_values_read_beyond_the_scope_are_the_values_a_full_read_gives(trial):
    with trial.app_context():
        study = current_study()
        for subject in db.session.scalars(sa.select(Subject).order_by(Subject.id)):
            full = SubjectData.load(study, subject)
            focus = max(full.entries)
            scoped = SubjectData.load(study, subject, focus=focus, reads=())
            assert scoped.entries.keys() == full.entries.keys()
            for key, entry in full.entries.items():
                assert {k: (r.values, r.missing, r.entered) for k, r in entry.rows.items()} == {
                    k: (r.values, r.missing, r.entered) for k, r in scoped.entries[key].rows.items()
                }, key
            db.session.rollback()
