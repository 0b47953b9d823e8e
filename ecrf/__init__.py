"""The IAH-PRRT eCRF: electronic case report forms for the LUTARTERIAL trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from ecrf.config import instance_path_from_env, load_config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application. Reads ECRF_* variables now, never at import; never migrates."""
    app = Flask(__name__, instance_path=instance_path_from_env(), instance_relative_config=True)
    load_config(app, test_config)
    if app.config["PROXY_FIX_X_FOR"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Trust X-Forwarded-For from this many proxies only: the sign-in throttle counts
        # failures per client address, which a client could otherwise forge.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]))

    from ecrf.jobs.backends import count_requests

    count_requests(app)  # the jobs of the app's own thread pool give way to its requests

    from ecrf.converters import BoundedIntConverter

    # Before any route is added: every <int:...> in a URL fits an INTEGER column.
    app.url_map.converters["int"] = BoundedIntConverter

    from ecrf.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        _configure_engine(db.engine)

    from ecrf.records.loader import import_study, load_study

    # A broken definition stops the start-up here, naming every problem.
    app.extensions["ecrf_study"] = load_study(import_study(app.config["STUDY_DEFINITION"]))

    from ecrf import models  # noqa: F401  (every model registered on the metadata)
    from ecrf.audit.checkpoints import init_checkpoints
    from ecrf.auth.sessions import init_sessions
    from ecrf.errors import register_error_handlers
    from ecrf.resume.web import init_resume
    from ecrf.security import init_security
    from ecrf.templating import init_templating

    init_sessions(app)
    init_resume(app)
    init_security(app)
    init_checkpoints()
    init_templating(app)
    register_error_handlers(app)

    from ecrf.api.admin import bp as api_tokens_bp
    from ecrf.api.cli import tokens_cli
    from ecrf.api.views import bp as api_bp
    from ecrf.auth.cli import users_cli
    from ecrf.auth.views import bp as auth_bp
    from ecrf.crf.views import bp as crf_bp
    from ecrf.dashboards.views import bp as dashboards_bp
    from ecrf.demo import demo_command
    from ecrf.exports.cli import export_cli, import_cli
    from ecrf.integrity import audit_cli  # the audit group, with `verify` added
    from ecrf.jobs.cli import jobs_cli, worker_command
    from ecrf.jobs.views import bp as jobs_bp
    from ecrf.laboratories.views import bp as laboratories_bp
    from ecrf.locks.cli import lock_command, unlock_command
    from ecrf.locks.views import bp as locks_bp
    from ecrf.main.views import bp as main_bp
    from ecrf.queries.views import bp as queries_bp
    from ecrf.reporting.cli import report_cli
    from ecrf.reporting.views import bp as reporting_bp
    from ecrf.resume.views import bp as resume_bp
    from ecrf.review.views import bp as review_bp
    from ecrf.sdv.views import bp as sdv_bp
    from ecrf.signatures.views import bp as signatures_bp
    from ecrf.study.cli import sites_cli, subjects_cli
    from ecrf.study.views import bp as study_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(study_bp)
    app.register_blueprint(laboratories_bp)
    app.register_blueprint(crf_bp)
    app.register_blueprint(queries_bp)
    app.register_blueprint(locks_bp)
    app.register_blueprint(signatures_bp)
    app.register_blueprint(dashboards_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(sdv_bp)
    app.register_blueprint(resume_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(reporting_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)
    app.cli.add_command(users_cli)
    app.cli.add_command(sites_cli)
    app.cli.add_command(subjects_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(export_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(lock_command)
    app.cli.add_command(unlock_command)
    return app


def _configure_engine(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    # The driver begins a transaction at the first write, so reads never pin an old snapshot
    # and a writer waits (timeout) for the one before it. Services that use SAVEPOINTs write
    # first (e.g. lock the subject row), so the savepoint nests inside a real transaction.
    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
