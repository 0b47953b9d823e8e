"""gunicorn settings of the load test: each request's server-side cost, one line a request.

Per request, into ``$LOAD_COSTS_DIR/<pid>.tsv``: method, path, status, wall ms (inside the
worker), CPU ms of the worker process (argon2's threads included) and SQL statements sent.
CPU time and statement counts hardly move with the machine's other load, so they tell a
slow kind of request from a busy machine (the wall time seen by locust includes the wait
for a free worker and for a core).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import sqlalchemy as sa

_statements = [0]


def _count(*_args) -> None:
    _statements[0] += 1


def post_worker_init(worker) -> None:
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", _count)
    # Open for the worker's life, a line flushed per request.
    costs = Path(os.environ["LOAD_COSTS_DIR"], f"{os.getpid()}.tsv")
    worker.load_costs = costs.open("a", buffering=1)


def pre_request(worker, req) -> None:
    worker.load_started = (time.perf_counter(), time.process_time(), _statements[0])


def post_request(worker, req, environ, resp) -> None:
    wall, cpu, statements = worker.load_started
    worker.load_costs.write(
        f"{req.method}\t{req.path}\t{resp.status_code}\t"
        f"{(time.perf_counter() - wall) * 1000:.1f}\t{(time.process_time() - cpu) * 1000:.1f}\t"
        f"{_statements[0] - statements}\n"
    )
