"""The benchmark's bulk generator: a trial of many subjects written fast, whose rows and
audit trail still agree as `ecrf audit verify` checks them."""

from __future__ import annotations

import sqlalchemy as sa

from benchmarks.bulk import bulk_subjects
from ecrf import create_app
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.queries.models import Query
from ecrf.records.models import FormEntry, Site, Subject, SubjectVisit
from ecrf.study import subjects
from tests.conftest import app_config


def test_bulk_subjects_copies_patients_whose_data_and_audit_trail_agree(databases, tmp_path):
    url = databases.new_database()
    app = create_app(app_config(url, tmp_path, STUDY_DEFINITION="forms.iahprrt:STUDY"))

    bulk_subjects(app, 20, seed=3, templates=4)

    with app.app_context():
        identifiers = list(db.session.scalars(sa.select(Subject.identifier)))
        assert len(identifiers) == 20
        assert len(set(identifiers)) == 20
        per_subject = (
            sa.select(sa.func.count(FormEntry.id))
            .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
            .group_by(SubjectVisit.subject_id)
        )
        assert min(db.session.scalars(per_subject)) > 0  # every copy has documented forms
        assert db.session.scalar(sa.select(sa.func.count(Query.id))) > 0
        sites = {code for (code,) in db.session.execute(sa.select(Site.code).join(Subject))}
        assert len(sites) > 1

        result = verify_trail()
        assert result.intact, [str(p) for p in result.problems.shown]
        assert result.chain.events > 20 * 100

        # Registration after the copies takes the next free number of its site.
        site = db.session.scalar(sa.select(Site).where(Site.code == "BDX"))
        subject = subjects.register_subject(site, actor=None)
        db.session.commit()
        assert subject.identifier not in identifiers
        db.session.remove()
        db.engine.dispose()
