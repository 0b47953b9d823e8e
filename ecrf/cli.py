"""The `ecrf` console script: Flask's commands plus the eCRF's, over create_app."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from ecrf import create_app


@click.group(
    cls=FlaskGroup,
    create_app=lambda: create_app(),
    help="""IAH-PRRT eCRF operator commands.

    Configuration comes from ECRF_* environment variables: ECRF_DATABASE_URL (default: SQLite
    file in the instance folder), ECRF_SECRET_KEY (default: generated once and kept in the
    instance folder), ECRF_AUDIT_KEY (default: generated once and kept in the instance folder;
    keep it apart from the database), ECRF_INSTANCE_PATH (default: ./instance).
    """,
)
def main() -> None:
    pass
