"""Where jobs run: on RQ workers when ECRF_REDIS_URL is set, else on a small thread pool
of the app's own process (the embedded demo). Either way only the job's id travels; the
job opens its own app context and session and reads everything from its row.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app, has_request_context

from ecrf.extensions import db

log = logging.getLogger(__name__)

QUEUE_NAME = "ecrf"
#: RQ keeps a finished job's record this long (the result itself is the job row's file).
RQ_RESULT_TTL = 24 * 3600
_EXECUTOR_KEY = "ecrf_job_threads"
_REQUESTS_KEY = "ecrf_requests_in_flight"
_executor_lock = threading.Lock()
#: How long a step of a long job of the thread pool waits at most for the requests its
#: process serves (see :func:`give_way`).
GIVE_WAY_SECONDS = 1.0


class QueueUnavailable(RuntimeError):
    """The job could not be handed to its backend (e.g. Redis unreachable)."""


#: What RQ runs for each job (by name: it builds the app when the worker did not).
RQ_FUNCTION = "ecrf.worker.run_queued"


def submit(job_id: int) -> None:
    """Hand a committed, queued job to the configured backend.

    :raises QueueUnavailable: Redis could not take it (the job will not run).
    """
    app = current_app._get_current_object()
    url = app.config.get("REDIS_URL")
    if url:
        _enqueue(url, job_id, app)
    else:
        _executor(app).submit(_run_in_thread, app, job_id)


# --- RQ ---------------------------------------------------------------------------------


def redis_connection(url: str):
    from redis import Redis

    return Redis.from_url(url)


def rq_queue(url: str):
    from rq import Queue

    return Queue(QUEUE_NAME, connection=redis_connection(url))


def _enqueue(url: str, job_id: int, app: Flask) -> None:
    from redis.exceptions import RedisError

    try:
        rq_queue(url).enqueue(
            RQ_FUNCTION,
            job_id,
            job_id=f"ecrf-job-{job_id}",
            job_timeout=int(float(app.config["JOB_TIMEOUT_MINUTES"]) * 60),
            result_ttl=RQ_RESULT_TTL,
            failure_ttl=RQ_RESULT_TTL,
        )
    except RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc


def run_and_purge(job_id: int) -> str | None:
    """Run the job, then tidy the export folder (the worker does it between page views)."""
    from ecrf.jobs.services import purge, run_job

    state = run_job(job_id)
    purge()  # the worker keeps the export folder tidy between page views
    db.session.commit()
    return state


def worker_class():
    """An rq Worker that gives each job an app context and records a killed job's failure."""
    from rq import Worker

    class AppWorker(Worker):
        app: Flask

        def perform_job(self, job, queue):  # runs in the forked work horse
            with self.app.app_context():
                # The fork copied the parent's pool: never share its connections.
                db.engine.dispose(close=False)
                return super().perform_job(job, queue)

        def handle_job_failure(self, job, queue, started_job_registry=None, exc_string=""):
            super().handle_job_failure(
                job, queue, started_job_registry=started_job_registry, exc_string=exc_string
            )
            # Also called by the parent when the work horse died (killed, out of memory,
            # past its timeout): the job row would otherwise stay "running".
            if job.func_name == RQ_FUNCTION and job.args:
                from ecrf.jobs.services import STALE, _finish_failed

                with self.app.app_context():
                    _finish_failed(int(job.args[0]), STALE)
                    db.session.remove()

    return AppWorker


# --- threads ----------------------------------------------------------------------------


def _executor(app: Flask) -> ThreadPoolExecutor:
    with _executor_lock:
        executor = app.extensions.get(_EXECUTOR_KEY)
        if executor is None:
            executor = ThreadPoolExecutor(
                max_workers=int(app.config["JOB_THREADS"]), thread_name_prefix="ecrf-job"
            )
            app.extensions[_EXECUTOR_KEY] = executor
        return executor


def _run_in_thread(app: Flask, job_id: int) -> None:
    with app.app_context():  # its own context, hence its own session and connection
        try:
            run_and_purge(job_id)
        except Exception:  # run_job already records failures; this is the purge's
            log.exception("job thread %s", job_id)


class RequestsInFlight:
    """WSGI middleware: how many requests the app's process is serving now."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            self.count += 1
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            with self._lock:
                self.count -= 1


def count_requests(app: Flask) -> None:
    """Count the requests ``app`` serves, for :func:`give_way`."""
    app.wsgi_app = app.extensions[_REQUESTS_KEY] = RequestsInFlight(app.wsgi_app)


def give_way() -> None:
    """Between two committed steps of a long job (the demo seeding), wait while this
    process serves requests, GIVE_WAY_SECONDS at most.

    On SQLite a request that writes waits for the job's transaction to end, polling every
    100 ms at most; a job that begins its next transaction at once wins nearly every time,
    and a sign-in during the demo seeding waited seconds for the lock, patient after
    patient. Nothing waits where no request is being served (a command, a worker), nor in
    a request.
    """
    if has_request_context():
        return  # a step run by a request would wait for itself
    requests = current_app.extensions.get(_REQUESTS_KEY)
    deadline = time.monotonic() + GIVE_WAY_SECONDS
    while requests is not None and requests.count and time.monotonic() < deadline:
        time.sleep(0.01)


def shutdown_threads(app: Flask, wait: bool = True) -> None:
    """Wait for the in-process jobs to end (tests, and a clean stop)."""
    executor = app.extensions.pop(_EXECUTOR_KEY, None)
    if executor is not None:
        executor.shutdown(wait=wait)
