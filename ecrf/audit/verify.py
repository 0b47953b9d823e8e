"""`ecrf audit verify` as a service: the chain against the key and the checkpoints, then the
stored data against the trail, both ways, in one streamed pass over the events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ecrf.audit.chain import ChainSummary, Problems, walk_chain
from ecrf.audit.checkpoints import BadLine, Checkpoint, checkpoint_path, read_checkpoints
from ecrf.audit.reconcile import Reconciler, dispatcher
from ecrf.audit.services import audit_key
from ecrf.extensions import db


@dataclass
class Verification:
    chain: ChainSummary
    checkpoints: int
    problems: Problems
    seconds: float

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_trail(reconcilers: list[Reconciler], limit: int = 20) -> Verification:
    """Check the chain, then the data through ``reconcilers`` (each package that keeps audited
    data brings its own: ``ecrf.integrity`` gathers them); every problem is counted, the
    first ``limit`` are kept to show."""
    with one_snapshot():
        return _verify(reconcilers, limit)


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Read the trail and the data as of one moment, in a read transaction of its own.

    On a live system the trail is read first, the tables after: a registration, a save or a
    query committed in between would otherwise be seen in the tables but not in the trail,
    and reported as data the application never wrote (the load test met it: a subject
    registered while `ecrf audit verify` ran). PostgreSQL gives REPEATABLE READ; SQLite
    (WAL) a deferred BEGIN, whose first read fixes the snapshot without holding writers
    back. Inside a transaction the caller
    already opened, its reads are used as they are.
    """
    session = db.session()
    if session.in_transaction():
        yield
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif dialect == "sqlite":
        session.connection().exec_driver_sql("BEGIN")
    try:
        yield
    finally:
        session.rollback()  # only read: ends the snapshot


def _verify(reconcilers: list[Reconciler], limit: int) -> Verification:
    started = time.perf_counter()
    key = audit_key()
    problems = Problems(limit)
    checkpoints: list[Checkpoint] = []
    bad_lines: list[BadLine] = []
    path = checkpoint_path()
    file_missing = not path.exists()
    if not file_missing:
        for line in read_checkpoints(key, path):
            (bad_lines if isinstance(line, BadLine) else checkpoints).append(line)
    chain = walk_chain(problems, key=key, checkpoints=checkpoints, on_event=dispatcher(reconcilers))
    if chain.key_matches:  # under a wrong key every line would look forged: say only that
        for line in bad_lines:
            problems.add(line)
        if file_missing and chain.events:
            problems.add(
                f"there is no checkpoint file at {path}: a deleted tail of the trail could not "
                "be seen (restore the file, or run `ecrf audit checkpoint` to start one)"
            )
        for reconciler in reconcilers:
            reconciler.compare(problems)
    return Verification(chain, len(checkpoints), problems, time.perf_counter() - started)
