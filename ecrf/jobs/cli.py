"""`ecrf jobs purge` and `ecrf worker`: the operator's side of the background jobs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ecrf import transaction
from ecrf.extensions import db
from ecrf.jobs import services
from ecrf.jobs.backends import QUEUE_NAME, redis_connection, worker_class

jobs_cli = AppGroup("jobs", help="Background jobs (extracts): purge old results.")

PURGED = (
    "Purged: {expired} expired result(s) deleted, {stale} job(s) that lost their worker and "
    "{never} never started marked failed."
)
NO_REDIS = "Set ECRF_REDIS_URL (e.g. redis://127.0.0.1:6379/0): without it jobs run in the app."


@jobs_cli.command("purge")
def purge():
    """Delete the results past ECRF_EXPORT_RETENTION_HOURS and give up on lost jobs.

    Workers and the jobs page also purge as they go; run this from cron when neither runs.
    """
    result = transaction.perform(lambda: services.purge())
    click.echo(
        PURGED.format(expired=result.expired, stale=result.stale, never=result.never_started)
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (tests, batch runs).")
@with_appcontext
def worker_command(burst: bool):
    """Run an RQ worker for the "ecrf" queue at ECRF_REDIS_URL, each job in an app context.

    Start as many as wanted, on as many hosts as wanted, with the same ECRF_* settings as
    the web app (database, audit key, ECRF_EXPORT_DIR on storage every host shares).
    """
    app = current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if not url:
        raise click.UsageError(NO_REDIS)
    transaction.perform(lambda: services.purge())
    db.session.remove()
    db.engine.dispose()  # the forked work horses open their own connections
    worker = worker_class()([QUEUE_NAME], connection=redis_connection(url))
    worker.app = app
    worker.work(burst=burst, with_scheduler=False)
