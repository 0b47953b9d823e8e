"""A save runs only the derivations and checks its changes reach: after every save of the
demo patients (each through the write path), the stored derived values and open findings
are exactly what running every rule over the whole subject gives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.crf.evaluate import run_checks, run_derivations
from ecrf.extensions import db
from ecrf.records import fields
from ecrf.records.data import SubjectData
from ecrf.records.loader import current_study
from ecrf.records.models import Finding, FindingStatus, Subject
from tests.seeded_trial import dispose, seed, trial_app


@pytest.fixture(scope="module")
def trial(databases):
    app = trial_app(databases)
    seed(app, count=8, seed_value=23)
    yield app
    dispose(app)


def test_scoped_saves_leave_every_derived_value_and_finding_as_a_full_run_would(trial):
    with trial.app_context():
        study = current_study()
        subjects = db.session.scalars(sa.select(Subject).order_by(Subject.id)).all()
        assert len(subjects) == 8
        compared = 0
        for subject in subjects:
            data = SubjectData.load(study, subject)
            stored = {
                (vo, vk, fo, g, k, item): row.values.get(item)
                for (vo, vk, fo), entry in data.entries.items()
                for (g, k), row in entry.rows.items()
                for item in row.values
            }
            for key, value in run_derivations(study, data).items():
                visit_oid, visit_key, form_oid, group_oid, row_key, item_oid = key
                entry = data.entry(visit_oid, visit_key, form_oid)
                row = entry.entry and next(
                    (
                        r
                        for r in entry.entry.rows
                        if r.group_oid == group_oid and r.repeat_key == row_key
                    ),
                    None,
                )
                if row is None or row.removed:
                    continue  # a row never written holds no derived value to compare
                item = study.item(form_oid, item_oid)[1]
                was = stored.get(key)
                assert fields.store(item, was).text == fields.store(item, value).text, (
                    f"{subject.identifier} {key}: stored {was!r}, a full run derives {value!r}"
                )
                compared += 1
            entry_ids = {k: e.entry.id for k, e in data.entries.items() if e.entry is not None}
            expected = {
                (
                    entry_ids[(f.key.visit_oid, f.key.repeat_key, f.key.form_oid)],
                    f.key.group_oid,
                    f.key.row_key,
                    f.key.item_oid,
                    f.key.check,
                )
                for f in run_checks(study, SubjectData.load(study, subject))
            }
            open_findings = {
                (f.entry_id, f.group_oid, f.repeat_key, f.item_oid, f.check_name)
                for f in db.session.scalars(
                    sa.select(Finding).where(
                        Finding.subject_id == subject.id, Finding.status == FindingStatus.OPEN
                    )
                )
            }
            assert open_findings == expected, subject.identifier
        assert compared > 500  # the patients reach far enough to derive a great deal
