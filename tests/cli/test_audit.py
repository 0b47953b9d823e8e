"""`ecrf audit verify`: intact trails pass; rows changed behind the application's back fail."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.audit.services import HASHED_FIELDS, canonical_payload
from ecrf.auth.roles import Role
from ecrf.extensions import db

INTACT = re.compile(
    r"Audit trail intact: (\d+) events? verified with the audit key, (\d+) checkpoints? "
    r"matched; the data and the trail agree both ways \(\d+\.\d\d s\)\.\n"
)


@pytest.fixture
def trail(create_site, create_user) -> int:
    """A few events: a site, two users with their roles. Returns how many."""
    create_site("BDX")
    create_user("alice", Role.SITE_STAFF, "BDX")
    create_user("bob", Role.MONITOR)
    return 5


def tamper(app, *statements: str) -> None:
    """Run raw SQL as an intruder with database access would, past the append-only trigger."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            bypass = ["ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"]
        else:
            bypass = ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"]
        for statement in [*bypass, *statements]:
            db.session.execute(sa.text(statement))
        db.session.commit()


def problems(result) -> list[str]:
    return [line[2:] for line in result.stderr.splitlines() if line.startswith("- ")]


def test_an_untouched_trail_verifies(runner, trail):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    # The first commit wrote a checkpoint of the head (#1) outside the database.
    assert INTACT.fullmatch(result.stdout).groups() == (str(trail), "1")


def test_an_empty_trail_verifies(runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert INTACT.fullmatch(result.output).groups() == ("0", "0")


def test_the_append_only_trigger_refuses_a_change(app, trail):
    with app.app_context(), pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text("UPDATE audit_event SET new = 'x' WHERE seq = 2"))
        db.session.commit()


def test_an_altered_event_is_named(app, runner, trail):
    tamper(app, "UPDATE audit_event SET new = 'Mallory' WHERE seq = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Audit trail NOT intact: 1 problem found (")
    assert problems(result) == ["event #2 (id 2) was altered since it was written (HMAC mismatch)"]


def test_an_altered_actor_is_found(app, runner, trail):
    tamper(app, "UPDATE audit_event SET actor = 'someone else' WHERE seq = 4")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert problems(result) == ["event #4 (id 4) was altered since it was written (HMAC mismatch)"]


def test_an_altered_event_with_a_recomputed_unkeyed_hash_is_found(app, runner, trail):
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 2))
        values = {name: getattr(event, name) for name in HASHED_FIELDS} | {"new": "Mallory"}
    forged = hashlib.sha256(canonical_payload(values)).hexdigest()
    tamper(app, f"UPDATE audit_event SET new = 'Mallory', hash = '{forged}' WHERE seq = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert problems(result) == [
        "event #2 (id 2) was altered since it was written (HMAC mismatch)",
        "event #3 (id 3) does not follow event #2",
    ]


def test_a_deleted_last_event_is_found(app, runner, trail):
    tamper(app, f"DELETE FROM audit_event WHERE seq = {trail}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert problems(result) == [
        f"the trail ends at #{trail - 1} but the chain head records #{trail}",
        "role monitor@* of user bob has no grant in the trail",
    ]


def test_a_deleted_middle_event_is_found(app, runner, trail):
    tamper(app, "DELETE FROM audit_event WHERE seq = 3")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert problems(result) == [
        "event #3 is missing (the trail goes on at #4)",
        "role site_staff@BDX of user alice has no grant in the trail",
    ]
