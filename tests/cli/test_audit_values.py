"""`ecrf audit verify` proves the current data from the trail: values changed behind the
application's back are caught even when the hash chain itself is intact."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.crf import visits
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import subjects


@pytest.fixture
def captured(app, create_site):
    create_site("BDX")
    with app.app_context():
        subject = subjects.register_subject(get_site("BDX"), actor=None)
        save_form(
            current_study(),
            subject,
            "SCR",
            "DM",
            {("DM", 1): {"BRTHYM": "1960-05", "SEX": "M", "WEIGHT": "70.5", "HEIGHT": "170"}},
            actor=None,
            expected_version=0,
        )
        db.session.commit()


def run_sql(app, statement: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text(statement))


def test_intact_data_verifies(captured, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "the data and the trail agree both ways" in result.output


def test_a_value_changed_in_the_database_is_caught(app, captured, runner):
    run_sql(
        app,
        "UPDATE item_value SET value_text = '80.5', value_number = 80.5 WHERE item_oid = 'WEIGHT'",
    )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "DM[1].WEIGHT holds '80.5' but the audit trail last recorded '70.5'" in result.output


def test_a_derived_value_changed_in_the_database_is_caught(app, captured, runner):
    run_sql(app, "UPDATE item_value SET value_text = '30.0' WHERE item_oid = 'BMI'")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "DM[1].BMI holds '30.0'" in result.output


def test_a_value_inserted_without_audit_is_caught(app, captured, runner):
    run_sql(
        app,
        "INSERT INTO item_value (row_id, item_oid, value_text, derived) "
        "SELECT row_id, 'NOTE', 'forged', false FROM item_value WHERE item_oid = 'SEX'",
    )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "NOTE holds 'forged' with no audit event" in result.output


def test_a_subject_status_changed_in_the_database_is_caught(app, captured, runner):
    run_sql(app, "UPDATE subject SET status = 'included'")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "subject BDX-001 status is 'included'" in result.output


def test_a_visit_date_changed_in_the_database_is_caught(app, captured, runner):
    from datetime import timedelta

    from ecrf.db import utcnow

    with app.app_context():
        subject = subjects.get_subject("BDX-001")
        visits.add_unscheduled_visit(
            current_study(), subject, "UNS", utcnow().date() - timedelta(days=3), actor=None
        )
        db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    run_sql(app, "UPDATE visit SET visit_date = '2020-01-01' WHERE visit_oid = 'UNS'")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "visit BDX-001/UNS/1 date is '2020-01-01'" in result.output
