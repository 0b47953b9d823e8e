"""Checkpoints of the audit chain's head, kept outside the database in an append-only file.

Each line records a committed position of the chain (sequence, hash, UTC time) with an HMAC
under the audit key, so a line cannot be forged without the key. ``ecrf audit verify``
holds the trail against every line: a trail shorter than a checkpoint was truncated or
rewound, whatever the database's own head row says.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_app_context

from ecrf.audit.models import AuditHead
from ecrf.audit.services import APPENDED, audit_key
from ecrf.db import utcnow
from ecrf.extensions import db

_HEAD = AuditHead.__table__


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime

    @property
    def when(self) -> str:
        return self.at.isoformat(timespec="seconds")

    def _body(self) -> str:
        return f"{self.seq} {self.hash} {self.at.isoformat(timespec='microseconds')}"

    def line(self, key: bytes) -> str:
        return f"{self._body()} {_mac(key, self._body())}\n"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash} at {self.when}"


@dataclass(frozen=True)
class BadLine:
    number: int
    problem: str

    def __str__(self) -> str:
        return f"checkpoint line {self.number}: {self.problem}"


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, b"checkpoint " + body.encode(), hashlib.sha256).hexdigest()


def checkpoint_path() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_FILE"])


def write_checkpoint() -> Checkpoint:
    """Append the chain's committed head to the checkpoint file and return it.

    Reads the head on a connection of its own, so it records what is committed, never the
    caller's pending transaction. Exports and reports call this and print the checkpoint in
    their manifest or footer. Several processes may append at once: each line is one write
    to a file opened with O_APPEND.

    :raises OSError: the file cannot be written.
    """
    head = _HEAD.c
    with db.engine.connect() as connection:
        seq, last_hash = connection.execute(
            sa.select(head.seq, head.last_hash).where(head.id == 1)
        ).one()
    checkpoint = Checkpoint(seq, last_hash, utcnow())
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, checkpoint.line(audit_key()).encode())
    finally:
        os.close(fd)
    return checkpoint


def read_checkpoints(key: bytes, path: Path | None = None) -> Iterator[Checkpoint | BadLine]:
    """Every line of the checkpoint file: a genuine checkpoint, or what is wrong with it."""
    path = path or checkpoint_path()
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, 1):
            parts = raw.split()
            if not parts:
                continue
            try:
                seq, hash_, at, mac = parts
                checkpoint = Checkpoint(int(seq), hash_, datetime.fromisoformat(at))
            except ValueError:
                yield BadLine(number, "not a checkpoint (malformed)")
                continue
            if not hmac.compare_digest(mac, _mac(key, checkpoint._body())):
                yield BadLine(number, "its HMAC does not match: forged or altered")
                continue
            yield checkpoint


def checkpoint_due(now: datetime | None = None) -> bool:
    """True when there is no checkpoint yet or the newest is older than the interval.

    The file is only ever appended to, so its modification time is the newest line's.
    """
    try:
        written = os.stat(checkpoint_path()).st_mtime
    except FileNotFoundError:
        return True
    age = (now or utcnow()).timestamp() - written
    return age >= timedelta(minutes=current_app.config["AUDIT_CHECKPOINT_MINUTES"]).total_seconds()


def _after_commit(session) -> None:
    """Checkpoint once a transaction that appended events has committed, when one is due."""
    if not session.info.pop(APPENDED, False) or not has_app_context():
        return
    try:
        if checkpoint_due():
            write_checkpoint()
    except (OSError, sa.exc.SQLAlchemyError):
        # The data are committed and stay valid; the next commit tries again. Say so loudly.
        current_app.logger.exception("Could not write the audit checkpoint")


def _after_rollback(session) -> None:
    session.info.pop(APPENDED, None)


def init_checkpoints() -> None:
    """Write checkpoints automatically after commits (once per process)."""
    if not sa.event.contains(db.session, "after_commit", _after_commit):
        sa.event.listen(db.session, "after_commit", _after_commit)
        sa.event.listen(db.session, "after_rollback", _after_rollback)
