"""Fixtures for the `ecrf` console script: database snapshots and a clean subprocess env."""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent, AuditHead
from ecrf.auth.models import RoleAssignment, User
from ecrf.extensions import db
from ecrf.records.models import Site

#: The console script installed next to this interpreter (the venv's bin/).
ECRF = str(Path(sys.executable).with_name("ecrf"))


@dataclass(frozen=True)
class Snapshot:
    users: int
    roles: int
    sites: int
    events: int
    head_seq: int


@pytest.fixture
def snapshot(app):
    """Count what a command could write, from a fresh app context (as another process would)."""

    def take() -> Snapshot:
        with app.app_context():

            def count(model) -> int:
                return db.session.scalar(sa.select(sa.func.count()).select_from(model))

            return Snapshot(
                users=count(User),
                roles=count(RoleAssignment),
                sites=count(Site),
                events=count(AuditEvent),
                head_seq=db.session.get(AuditHead, 1).seq,
            )

    return take


@pytest.fixture
def audit_actions(app):
    """(action, entity_id, reason) of every audit event, in chain order."""

    def read() -> list[tuple[str, str | None, str | None]]:
        with app.app_context():
            rows = db.session.execute(
                sa.select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.reason).order_by(
                    AuditEvent.seq
                )
            )
            return [tuple(row) for row in rows]

    return read


@pytest.fixture
def script_env(tmp_path) -> dict[str, str]:
    """Environment for the real `ecrf`: a fresh instance folder and, apart from strict rules,
    no other ECRF_* setting, so the database is the embedded SQLite default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECRF_", "FLASK_"))}
    env["ECRF_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["ECRF_STRICT_RULES"] = "true"  # a derivation or edit check that raises fails the test
    return env


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
