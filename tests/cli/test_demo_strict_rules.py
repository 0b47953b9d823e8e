"""Every patient `ecrf demo` seeds goes through every derivation and edit check of the
IAH-PRRT definition without one raising (STRICT_RULES: a rule that raises fails the save,
and so the seeding, naming the subject, form, row, rule and inputs)."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.demo import demo_command
from ecrf.extensions import db
from ecrf.records.models import FormEntry, Subject, SubjectStatus
from forms.iahprrt import STUDY
from forms.iahprrt.demo import PROFILES, allocate
from tests.seeded_trial import dispose, seed, trial_app

#: The demo's own defaults (`ecrf demo` without --subjects or --seed): its patients.
DEFAULTS = {param.name: param.default for param in demo_command.params}
SUBJECTS, SEED = DEFAULTS["subjects"], DEFAULTS["seed"]


def test_the_demo_cohort_holds_every_stage_of_the_trial():
    assert set(allocate(SUBJECTS)) == set(PROFILES)


def test_every_demo_patient_is_derived_and_checked_without_a_rule_raising(databases):
    app = trial_app(databases)
    assert app.config["STRICT_RULES"] is True
    try:
        seed(app, SUBJECTS, SEED)  # a RuleFailed would fail the seeding here
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Subject)) == SUBJECTS
            assert set(db.session.scalars(sa.select(Subject.status))) == set(SubjectStatus)
            # Every form of the definition was saved, so each of its rules ran.
            forms = set(db.session.scalars(sa.select(FormEntry.form_oid)))
            assert forms == {form.oid for form in STUDY.forms}
    finally:
        dispose(app)
