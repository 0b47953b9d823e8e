"""Checkpoints of the chain head: written outside the database, only for committed events,
automatically after commits once the interval has passed, and unforgeable without the key."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlalchemy as sa

from ecrf.audit.checkpoints import BadLine, checkpoint_path, read_checkpoints, write_checkpoint
from ecrf.audit.models import AuditHead
from ecrf.audit.services import record_event
from ecrf.extensions import db
from tests.conftest import AUDIT_KEY

KEY = AUDIT_KEY.encode()


def lines(path: Path) -> list:
    return list(read_checkpoints(KEY, path)) if path.exists() else []


def append(n: int) -> None:
    for i in range(n):
        record_event("site_created", "site", f"S{i}", actor_label="tester")


def test_the_first_commit_with_events_writes_a_checkpoint_of_what_it_committed(app_ctx):
    path = checkpoint_path()
    append(3)
    assert not path.exists()  # nothing before the commit
    db.session.commit()
    (checkpoint,) = lines(path)
    head = db.session.get(AuditHead, 1)
    assert (checkpoint.seq, checkpoint.hash) == (3, head.last_hash)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_rolled_back_transaction_writes_no_checkpoint(app_ctx):
    append(2)
    db.session.rollback()
    db.session.commit()
    assert not checkpoint_path().exists()


def test_a_checkpoint_taken_mid_transaction_records_only_the_committed_head(app_ctx):
    append(2)
    db.session.commit()
    append(3)  # pending, not committed
    checkpoint = write_checkpoint()
    assert checkpoint.seq == 2
    db.session.rollback()


def test_later_commits_wait_for_the_interval_then_checkpoint_again(make_app):
    app = make_app(AUDIT_CHECKPOINT_MINUTES=60)
    with app.app_context():
        path = checkpoint_path()
        append(1)
        db.session.commit()
        append(1)
        db.session.commit()
        assert [c.seq for c in lines(path)] == [1]  # the newest checkpoint is recent
        hour_ago = path.stat().st_mtime - 3601
        os.utime(path, (hour_ago, hour_ago))
        append(1)
        db.session.commit()
        assert [c.seq for c in lines(path)] == [1, 3]


def test_concurrent_writers_append_whole_lines(app):
    with app.app_context():
        append(1)
        db.session.commit()
        path = checkpoint_path()

    def write() -> None:
        with app.app_context():
            for _ in range(25):
                write_checkpoint()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = lines(path)
    assert len(found) == 101 and not [line for line in found if isinstance(line, BadLine)]


def test_a_line_is_not_genuine_under_another_key_or_once_edited(app_ctx):
    append(1)
    db.session.commit()
    path = checkpoint_path()
    assert [type(x) for x in read_checkpoints(b"another key", path)] == [BadLine]
    text = path.read_text()
    assert text.startswith("1 ")
    path.write_text("9" + text[1:])  # claim the head was at #9
    (line,) = read_checkpoints(KEY, path)
    assert str(line) == "checkpoint line 1: its HMAC does not match: forged or altered"


def test_the_checkpoint_reads_the_head_on_its_own_connection(app_ctx):
    append(1)
    db.session.commit()
    # The head read by the checkpoint is the committed row, whatever the session holds.
    assert db.session.scalar(sa.select(AuditHead.seq)) == write_checkpoint().seq == 1
