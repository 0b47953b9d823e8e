"""The Alembic revisions build exactly the schema the models declare, and unwind."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from ecrf import create_app
from ecrf.db import Base
from ecrf.extensions import db


def schema_diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_and_models_agree(databases):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "AUDIT_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": databases.create_empty(),
        }
    )
    with app.app_context():
        upgrade()
        assert schema_diff(db.engine) == []
        db.engine.dispose()


def test_downgrade_to_nothing_and_upgrade_again(databases):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "AUDIT_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": databases.create_empty(),
        }
    )
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() in ([], ["alembic_version"])
        upgrade()
        assert {"user_account", "site", "audit_event"} <= set(
            sa.inspect(db.engine).get_table_names()
        )
        db.engine.dispose()
