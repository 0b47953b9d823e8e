"""The revision adding the unit of a value: values stored before keep their text and read
as in the standard unit (no unit); it unwinds without losing them."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from ecrf import create_app
from ecrf.extensions import db

BEFORE = "c4a8e2f1d9b3"
NOW = "2026-12-01 10:00:00+00:00"


def _insert_a_value() -> None:
    rows = [
        "INSERT INTO site (id, code, name, created_at, last_subject_number)"
        f" VALUES (1, 'BDX', 'Bordeaux', '{NOW}', 1)",
        "INSERT INTO subject (id, site_id, number, identifier, status, created_at)"
        f" VALUES (1, 1, 1, 'BDX-001', 'screening', '{NOW}')",
        "INSERT INTO visit (id, subject_id, visit_oid, repeat_key, out_of_window, created_at)"
        f" VALUES (1, 1, 'SCR', 1, false, '{NOW}')",
        "INSERT INTO definition_version (id, study_oid, version, digest, published_at)"
        f" VALUES (1, 'IAHPRRT', '1.2', 'x', '{NOW}')",
        "INSERT INTO form_entry (id, visit_id, form_oid, status, version,"
        " definition_version_id, created_at, updated_at)"
        f" VALUES (1, 1, 'LBHEM', 'draft', 1, 1, '{NOW}', '{NOW}')",
        "INSERT INTO item_group_row (id, entry_id, group_oid, repeat_key, removed)"
        " VALUES (1, 1, 'LBHEM', 1, false)",
        "INSERT INTO item_value (id, row_id, item_oid, value_text, value_number, derived)"
        " VALUES (1, 1, 'HGB', '12.5', 12.5, false)",
    ]
    with db.engine.begin() as conn:
        for statement in rows:
            conn.execute(sa.text(statement))


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns("item_value")}


def test_values_stored_before_have_no_unit_and_survive_both_ways(databases):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "AUDIT_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": databases.create_empty(),
        }
    )
    with app.app_context():
        upgrade(revision=BEFORE)
        assert "unit" not in _columns()
        _insert_a_value()
        upgrade()
        assert "unit" in _columns()
        with db.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT value_text, unit FROM item_value")).one()
            assert tuple(stored) == ("12.5", None)
            conn.execute(sa.text("UPDATE item_value SET unit = 'g/L', value_text = '125'"))
            conn.commit()
        downgrade(revision=BEFORE)
        assert "unit" not in _columns()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT value_text FROM item_value")).scalar() == "125"
        db.engine.dispose()
