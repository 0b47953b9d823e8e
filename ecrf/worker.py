"""The function RQ runs for each job, named by ``ecrf.jobs.backends.RQ_FUNCTION``.

Under `ecrf worker` the job already runs in the app's context; under a plain `rq worker` it
builds the app first, which is why it sits here, above every package, and not in ``jobs``.
"""

from __future__ import annotations

from flask import has_app_context

from ecrf.jobs.backends import run_and_purge


def run_queued(job_id: int) -> str | None:
    if has_app_context():
        return run_and_purge(job_id)
    from ecrf import create_app

    with create_app().app_context():
        return run_and_purge(job_id)
