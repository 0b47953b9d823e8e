"""The audit trail: append-only in the database, hash-chained, and verifiable."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest
import sqlalchemy as sa

from ecrf.audit.chain import verify_chain
from ecrf.audit.models import AuditEvent, AuditHead
from ecrf.audit.services import batched_events, key_check, record_event
from ecrf.extensions import db
from tests.conftest import AUDIT_KEY


def bypass_append_only(connection) -> None:
    """What someone with database access could do: switch the protection off."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        )
    else:
        connection.execute(sa.text("DROP TRIGGER audit_event_no_update"))
        connection.execute(sa.text("DROP TRIGGER audit_event_no_delete"))


@pytest.fixture
def trail(app_ctx):
    for n in range(5):
        record_event("site_created", "site", f"S{n}", actor_label="tester", new=f"Site {n}")
    db.session.commit()


def test_events_chain_one_after_the_other(trail):
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in pairwise(rows))
    assert verify_chain() == (5, None)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET new = 'x' WHERE seq = 2", "DELETE FROM audit_event WHERE seq = 2"],
)
def test_the_database_refuses_to_change_or_delete_audit_events(trail, statement):
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert verify_chain() == (5, None)


def test_an_altered_event_is_found_and_named(trail):
    with db.engine.begin() as conn:
        bypass_append_only(conn)
        conn.execute(sa.text("UPDATE audit_event SET new = 'Forged' WHERE seq = 3"))
    checked, problem = verify_chain()
    assert checked == 5 and problem.seq == 3 and "altered" in problem.problem


def test_each_hash_is_an_hmac_under_the_key_kept_outside_the_database(trail):
    import hashlib
    import hmac

    from ecrf.audit.services import HASHED_FIELDS, canonical_payload

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 3))
    payload = canonical_payload({name: getattr(event, name) for name in HASHED_FIELDS})
    assert event.hash == hmac.new(AUDIT_KEY.encode(), payload, hashlib.sha256).hexdigest()
    assert event.hash != hashlib.sha256(payload).hexdigest()
    # The head proves which key wrote the trail, without revealing anything to forge with.
    assert db.session.get(AuditHead, 1).key_check == key_check(AUDIT_KEY.encode())


def test_a_forgery_rehashed_with_the_key_still_breaks_the_next_link(trail):
    from ecrf.audit.services import HASHED_FIELDS, event_hash

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 3))
    values = {name: getattr(event, name) for name in HASHED_FIELDS} | {"new": "Forged"}
    forged_hash = event_hash(values, AUDIT_KEY.encode())
    db.session.rollback()
    with db.engine.begin() as conn:
        bypass_append_only(conn)
        conn.execute(
            sa.text("UPDATE audit_event SET new = 'Forged', hash = :h WHERE seq = 3"),
            {"h": forged_hash},
        )
    _, problem = verify_chain()
    assert problem.seq == 4 and "does not follow" in problem.problem


def test_a_deleted_event_in_the_middle_is_found(trail):
    with db.engine.begin() as conn:
        bypass_append_only(conn)
        conn.execute(sa.text("DELETE FROM audit_event WHERE seq = 2"))
    _, problem = verify_chain()
    assert problem.seq == 2 and "missing" in problem.problem


def test_a_deleted_last_event_is_found_through_the_chain_head(trail):
    with db.engine.begin() as conn:
        bypass_append_only(conn)
        conn.execute(sa.text("DELETE FROM audit_event WHERE seq = 5"))
    checked, problem = verify_chain()
    assert checked == 4 and "the trail ends at #4 but the chain head records #5" in problem.problem


def test_concurrent_writers_queue_up_instead_of_forking_the_chain(app):
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(10):
                    record_event("site_created", "site", f"T{n}-{i}", actor_label=f"w{n}")
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert verify_chain() == (40, None)
        assert db.session.get(AuditHead, 1).seq == 40


def test_event_times_are_utc(trail):
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 1))
    assert event.at.utcoffset().total_seconds() == 0


def test_a_batch_appends_its_events_in_order_in_three_statements(trail):
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        with batched_events():
            for n in range(4):
                record_event("site_created", "site", f"B{n}", actor_label="batch")
            with batched_events():  # nested: appended with the outer batch
                record_event("site_created", "site", "B4", actor_label="batch")
            assert statements == []  # nothing written until the batch ends
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    db.session.commit()
    assert len(statements) == 3  # take 5 positions, insert 5 events, move the head
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq > 5)).all()
    assert [(r.seq, r.entity_id) for r in rows] == [(6 + n, f"B{n}") for n in range(5)]
    assert verify_chain() == (10, None)


def test_a_batch_left_by_an_error_appends_nothing(trail):
    with pytest.raises(ValueError), batched_events():
        record_event("site_created", "site", "lost", actor_label="batch")
        raise ValueError("refused")
    record_event("site_created", "site", "kept", actor_label="batch")
    db.session.commit()
    last = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert (last.seq, last.entity_id) == (6, "kept")
    assert verify_chain() == (6, None)
