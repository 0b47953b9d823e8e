"""The `ecrf` console script: Flask's commands plus the eCRF's, over create_app."""

from __future__ import annotations

import gc

from flask import Flask
from flask.cli import FlaskGroup

from ecrf import create_app
from ecrf.extensions import db

#: The commands (Flask's and the app's); ``main`` runs them in a process of their own.
cli = FlaskGroup(
    name="ecrf",
    create_app=lambda: create_app(),
    help="""IAH-PRRT eCRF operator commands.

    Configuration comes from ECRF_* environment variables: ECRF_DATABASE_URL (default: SQLite
    file in the instance folder), ECRF_SECRET_KEY (default: generated once and kept in the
    instance folder), ECRF_AUDIT_KEY (default: generated once and kept in the instance folder;
    keep it apart from the database), ECRF_INSTANCE_PATH (default: ./instance).
    """,
)

#: The app ``main`` built in this process.
_built: list[Flask] = []


def _create_app_for_the_process() -> Flask:
    """create_app, its objects kept out of the garbage collector's way: they live as long as
    the process. The collections while it builds, and those over every object when the
    interpreter exits, took a third of a short command's CPU time; a worker's forked work
    horses leave the frozen objects' pages shared, too."""
    gc.disable()
    try:
        app = create_app()
    finally:
        gc.freeze()
        gc.enable()
    _built.append(app)
    return app


def _close_connections() -> None:
    """Close the database connections, as the collection at exit did for the frozen pool:
    SQLite folds its write-ahead log into the database file when the last one closes."""
    for app in _built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    """The `ecrf` console script."""
    cli.create_app = _create_app_for_the_process
    try:
        cli()
    finally:
        _close_connections()
