"""A page that lists subjects reads their visits, then their entries, in two statements: a
visit another user saves between the two (PostgreSQL shows each statement what was
committed before it) comes with its entry, and the page still answers."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import FormEntry, SubjectVisit
from ecrf.records.schedule_data import load_schedule_data
from ecrf.study import subjects


def test_a_visit_saved_between_the_reads_is_loaded_with_its_entry(
    app, create_site, create_user, create_subject
):
    create_site("BDX")
    create_user("alice", Role.SITE_STAFF, "BDX")
    identifier = create_subject("BDX", {("SCR", "DM"): {("DM", 1): {"SEX": "M"}}})
    with app.app_context():
        subject = subjects.get_subject(identifier)
        first = db.session.scalars(sa.select(FormEntry)).one()
        engine = db.engine
        saved = []

        def another_user_saves(conn, cursor, statement, parameters, context, executemany):
            reads_visits = statement.lstrip().startswith("SELECT") and "FROM visit" in statement
            if saved or not reads_visits or "form_entry" in statement:
                return
            saved.append(True)  # before saving: the save's own statements come here too
            with sa.orm.Session(engine) as other:
                visit = SubjectVisit(subject_id=subject.id, visit_oid="UNS", repeat_key=1)
                other.add(visit)
                other.flush()
                other.add(
                    FormEntry(
                        visit_id=visit.id,
                        form_oid="AE",
                        definition_version_id=first.definition_version_id,
                    )
                )
                other.commit()

        sa.event.listen(engine, "after_cursor_execute", another_user_saves)
        try:
            loaded = load_schedule_data(current_study(), [subject])
        finally:
            sa.event.remove(engine, "after_cursor_execute", another_user_saves)

    assert saved, "the other user's save did not run between the reads"
    data = loaded[subject.id]
    assert ("UNS", 1) in data.visits
    assert ("UNS", 1, "AE") in data.entries
    assert ("SCR", 1, "DM") in data.entries
