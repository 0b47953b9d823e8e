"""Whoever holds only the database cannot change, delete, insert, back-date or truncate
anything unseen: each way of tampering, done behind the application's back with the
protections switched off as a database holder would, makes `ecrf audit verify` exit 1
naming what it found."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.audit.services import HASHED_FIELDS, canonical_payload, event_hash
from ecrf.auth import services as accounts
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import visits
from ecrf.crf.services import remove_row, save_form
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import current_study
from ecrf.records.models import Finding, FormEntry, Subject, SubjectStatus, SubjectVisit
from ecrf.records.sites import get_site
from ecrf.study import subjects
from tests.conftest import AUDIT_KEY


def entry_version(subject: Subject, visit_oid: str, form_oid: str) -> int:
    entry = db.session.scalar(
        sa.select(FormEntry)
        .join(SubjectVisit)
        .where(SubjectVisit.subject_id == subject.id, SubjectVisit.visit_oid == visit_oid)
        .where(FormEntry.form_oid == form_oid)
    )
    return entry.version if entry else 0


@pytest.fixture
def clinic(app, create_site, create_user):
    """Real work through the services: saves, a completion, a removed row, findings opened
    and resolved, visit dates, queries (one closed, one open), a status change, roles granted
    and revoked, a deactivation."""
    create_site("BDX")
    create_site("TLS")
    create_user("alice", Role.SITE_STAFF, "BDX")
    create_user("bob", Role.MONITOR)
    create_user("carol", Role.INVESTIGATOR, "BDX")
    create_user("dave", Role.SITE_STAFF, "TLS")
    with app.app_context():
        study = current_study()

    def save(subject, visit_oid, form_oid, rows, **options):
        save_form(
            study,
            subject,
            visit_oid,
            form_oid,
            rows,
            actor=None,
            expected_version=entry_version(subject, visit_oid, form_oid),
            **options,
        )
        db.session.commit()

    with app.app_context():
        carol = db.session.scalar(sa.select(User).where(User.username == "carol"))
        accounts.revoke_role(carol.roles[0], actor=None)
        dave = db.session.scalar(sa.select(User).where(User.username == "dave"))
        accounts.deactivate_user(dave, actor=None, reason="Left the hospital.")
        db.session.commit()

        first = subjects.register_subject(get_site("BDX"), actor=None)
        second = subjects.register_subject(get_site("BDX"), actor=None)
        db.session.commit()
        dm = {"BRTHYM": "1960-05", "SEX": "M", "WEIGHT": "70.5", "HEIGHT": "170"}
        save(first, "SCR", "DM", {("DM", 1): dm}, complete=True)
        save(first, "SCR", "LB", {("LB", 1): {"HGB": "7.5"}})  # opens a finding
        anaemia = {"AETERM": "Anaemia grade 3", "AESTDAT": "2024-05"}
        save(first, "LOGS", "AE", {("AE", 1): anaemia})  # resolves it
        save(first, "LOGS", "AE", {("AE", 2): {"AETERM": "Nausea", "AESTDAT": "2024-05"}})
        remove_row(
            study,
            first,
            "LOGS",
            "AE",
            "AE",
            2,
            actor=None,
            reason="Entered in error",
            expected_version=entry_version(first, "LOGS", "AE"),
        )
        visits.add_unscheduled_visit(
            study, first, "UNS", utcnow().date() - timedelta(days=3), actor=None
        )
        db.session.commit()
        weight = QueryTarget("SCR", 1, "DM", item_oid="WEIGHT")
        asked = queries.open_query(study, first, weight, "Weight on the source?", actor=None)
        queries.answer_query(asked, "70.5 kg, as measured.", actor=None)
        queries.close_query(asked, actor=None)
        queries.open_query(study, first, QueryTarget("SCR", 1), "Visit letter?", actor=None)
        db.session.commit()
        save(second, "SCR", "LB", {("LB", 1): {"HGB": "7.5"}})  # a finding left open
        subjects.change_status(
            study, second, SubjectStatus.WITHDRAWN, actor=None, reason="Consent withdrawn."
        )
        db.session.commit()


def verify(runner) -> tuple[int, str]:
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, result.stdout + result.stderr


def intrude(app, *statements: str, params: dict | None = None) -> None:
    """Change the database as its holder could: on a connection of one's own, with the
    append-only triggers and the foreign keys switched off."""
    with app.app_context():
        engine = sa.create_engine(db.engine.url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_no_update")
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_no_delete")
            for statement in statements:
                conn.execute(sa.text(statement), params or {})
    finally:
        engine.dispose()


def entry_id(app, identifier: str, form_oid: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(FormEntry.id)
            .join(SubjectVisit)
            .join(Subject)
            .where(Subject.identifier == identifier, FormEntry.form_oid == form_oid)
        )


def events(app) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq))
        return [{n: getattr(e, n) for n in (*HASHED_FIELDS, "id", "hash")} for e in rows]


def sha256_without_key(values: dict) -> str:
    """What a forger without the key can compute: the old, unkeyed hash."""
    return hashlib.sha256(canonical_payload(values)).hexdigest()


def test_a_clean_database_verifies_after_real_work(clinic, runner):
    code, output = verify(runner)
    assert code == 0, output
    assert output.startswith("Audit trail intact: ")
    assert "the data and the trail agree both ways" in output


# --- the chain ---------------------------------------------------------------------------


def test_an_event_rewritten_and_rehashed_without_the_key_is_caught(app, clinic, runner):
    target = next(e for e in events(app) if e["action"] == "user_deactivated")
    forged = {**target, "reason": "Moved away."}
    intrude(
        app,
        "UPDATE audit_event SET reason = 'Moved away.', hash = :h WHERE seq = :s",
        params={"h": sha256_without_key(forged), "s": target["seq"]},
    )
    code, output = verify(runner)
    assert code == 1
    seq, id_ = target["seq"], target["id"]
    assert f"- event #{seq} (id {id_}) was altered since it was written (HMAC mismatch)" in output
    assert f"- event #{seq + 1} (id {id_ + 1}) does not follow event #{seq}" in output


def test_a_whole_trail_rechained_without_the_key_is_caught(app, clinic, runner):
    trail = events(app)
    prev = "0" * 64
    statements, params = [], {}
    for n, event in enumerate(trail):
        values = {**event, "prev_hash": prev}
        if n == 5:
            values["actor"] = "someone else"
        values["hash"] = sha256_without_key(values)
        statements.append(
            f"UPDATE audit_event SET actor = :a{n}, prev_hash = :p{n}, hash = :h{n} "
            f"WHERE seq = {event['seq']}"
        )
        params |= {f"a{n}": values["actor"], f"p{n}": prev, f"h{n}": values["hash"]}
        prev = values["hash"]
    statements.append(f"UPDATE audit_head SET last_hash = '{prev}'")
    intrude(app, *statements, params=params)
    code, output = verify(runner)
    assert code == 1
    # Every event, and the first one's hash against the checkpoint written at the first commit.
    assert f"Audit trail NOT intact: {len(trail) + 1} problems found" in output
    assert "- event #1 (id 1) was altered since it was written (HMAC mismatch)" in output
    assert "- event #1 (id 1) differs from the checkpoint of " in output
    assert "does not follow" not in output


def test_a_deleted_tail_with_a_rewound_head_is_caught_by_the_checkpoint(app, clinic, runner):
    checkpointed = runner.invoke(args=["audit", "checkpoint"])
    assert checkpointed.exit_code == 0, checkpointed.output
    trail = events(app)
    last, keep = trail[-1], trail[-4]
    intrude(
        app,
        f"DELETE FROM audit_event WHERE seq > {keep['seq']}",
        f"UPDATE audit_head SET seq = {keep['seq']}, last_hash = '{keep['hash']}'",
    )
    code, output = verify(runner)
    assert code == 1
    assert f"- the trail ends at #{keep['seq']} but the checkpoint of " in output
    assert f"recorded #{last['seq']}: events were deleted at the tail" in output
    assert "chain head" not in output  # the head was rewound consistently: only the file knows


def test_a_missing_checkpoint_file_is_reported(app, clinic, runner):
    with app.app_context():
        from ecrf.audit.checkpoints import checkpoint_path

        checkpoint_path().unlink()
    code, output = verify(runner)
    assert code == 1
    assert "there is no checkpoint file at " in output


def test_an_event_back_dated_without_the_key_is_caught(app, clinic, runner):
    intrude(
        app, "UPDATE audit_event SET at = :at WHERE seq = 8", params={"at": "2020-01-01 00:00:00"}
    )
    code, output = verify(runner)
    assert code == 1
    assert "- event #8 (id 8) was altered since it was written (HMAC mismatch)" in output


def test_an_event_dated_before_its_predecessor_is_named_even_with_a_valid_hmac(app, clinic, runner):
    """Back-dating by someone holding the key (or a host whose clock is behind)."""
    trail = events(app)
    key = AUDIT_KEY.encode()
    prev = trail[6]["hash"]
    statements, params = [], {}
    for n, event in enumerate(trail[7:], 7):
        values = {**event, "prev_hash": prev}
        if n == 7:
            values["at"] = trail[6]["at"] - timedelta(seconds=5)
        values["hash"] = event_hash(values, key)
        statements.append(
            f"UPDATE audit_event SET at = :at{n}, prev_hash = :p{n}, hash = :h{n} "
            f"WHERE seq = {event['seq']}"
        )
        at = (
            values["at"].replace(tzinfo=None)
            if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
            else values["at"]
        )
        params |= {f"at{n}": at, f"p{n}": prev, f"h{n}": values["hash"]}
        prev = values["hash"]
    statements.append(f"UPDATE audit_head SET last_hash = '{prev}'")
    intrude(app, *statements, params=params)
    code, output = verify(runner)
    assert code == 1
    assert "- event #8 (id 8) is dated " in output and ", before event #7 (" in output
    assert "HMAC mismatch" not in output


def test_insert_or_replace_is_caught_on_sqlite_and_refused_on_postgresql(app, clinic, runner):
    columns = ", ".join(["id", *HASHED_FIELDS, "hash"])
    forged = columns.replace("new", "'Mallory'")
    with app.app_context():
        dialect = db.engine.dialect.name
        engine = sa.create_engine(db.engine.url)
    try:
        if dialect == "sqlite":  # no trigger to drop: REPLACE deletes without firing them
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    f"INSERT OR REPLACE INTO audit_event ({columns}) "
                    f"SELECT {forged} FROM audit_event WHERE seq = 2"
                )
            code, output = verify(runner)
            assert code == 1
            assert "- event #2 (id 2) was altered since it was written (HMAC mismatch)" in output
        else:
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql(
                    f"INSERT INTO audit_event ({columns}) SELECT {forged} FROM audit_event "
                    "WHERE seq = 2 ON CONFLICT (id) DO UPDATE SET new = excluded.new"
                )
            assert verify(runner)[0] == 0
    finally:
        engine.dispose()


def test_a_wrong_key_is_told_apart_from_tampering(app, make_app, clinic):
    other = make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        AUDIT_CHECKPOINT_FILE=app.config["AUDIT_CHECKPOINT_FILE"],
        AUDIT_KEY="another key",
    )
    code, output = verify(other.test_cli_runner())
    assert code == 1
    assert output.splitlines()[1:] == [
        "- the audit key does not match the one this trail was written with: check "
        "ECRF_AUDIT_KEY or the instance folder's audit_key file (nothing else was checked)"
    ]


def test_a_worker_with_another_key_refuses_to_write(app, make_app, clinic):
    from ecrf.audit.services import AuditKeyMismatch, record_event

    other = make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], AUDIT_KEY="k2")
    with other.app_context():
        with pytest.raises(AuditKeyMismatch, match="same ECRF_AUDIT_KEY"):
            record_event("site_created", "site", "XX", actor_label="w2")
        db.session.rollback()


def test_a_key_check_altered_in_the_database_is_reported(app, clinic, runner):
    intrude(app, "UPDATE audit_head SET key_check = '" + "0" * 64 + "'")
    code, output = verify(runner)
    assert code == 1
    assert "- the chain head's key check was altered in the database" in output


def test_a_forged_checkpoint_line_is_reported(app, clinic, runner):
    with app.app_context():
        from ecrf.audit.checkpoints import checkpoint_path

        path = checkpoint_path()
    with path.open("a") as handle:
        handle.write(f"999 {'a' * 64} 2026-01-01T00:00:00.000000+00:00 {'b' * 64}\n")
    code, output = verify(runner)
    assert code == 1
    assert "- checkpoint line 2: its HMAC does not match: forged or altered" in output
    assert "recorded #999" not in output  # a forged line proves nothing


# --- the data against the trail, both ways --------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        pytest.param(
            ["DELETE FROM item_value WHERE item_oid = 'WEIGHT'"],
            "form entry {DM} (BDX-001 SCR DM) DM[1].WEIGHT is missing from the data but the "
            "audit trail last recorded '70.5'",
            id="item value deleted",
        ),
        pytest.param(
            [
                "DELETE FROM item_group_row WHERE group_oid = 'AE' AND repeat_key = 1",
            ],
            "row AE[1] of form entry {AE} (BDX-001 LOGS AE) is missing from the data but the "
            "trail added it",
            id="row deleted",
        ),
        pytest.param(
            ["DELETE FROM form_entry WHERE form_oid = 'DM'"],
            "form entry {DM} (BDX-001 SCR DM) is missing from the data but the trail records it",
            id="form deleted",
        ),
        pytest.param(
            ["DELETE FROM visit WHERE visit_oid = 'UNS'"],
            "visit BDX-001/UNS/1 is missing from the data but the trail records it",
            id="visit deleted",
        ),
        pytest.param(
            ["DELETE FROM subject WHERE identifier = 'BDX-002'"],
            "subject BDX-002 is missing from the data but the trail registered it",
            id="subject deleted",
        ),
        pytest.param(
            ["UPDATE form_entry SET status = 'draft' WHERE form_oid = 'DM'"],
            "form entry {DM} (BDX-001 SCR DM) is draft but the trail says complete",
            id="complete form turned back to draft",
        ),
        pytest.param(
            [
                "UPDATE item_group_row SET removed = false, removed_reason = NULL "
                "WHERE group_oid = 'AE' AND repeat_key = 2"
            ],
            "row AE[2] of form entry {AE} (BDX-001 LOGS AE) is present but the trail removed it",
            id="removed row restored",
        ),
        pytest.param(
            ["UPDATE finding SET status = 'resolved' WHERE status = 'open'"],
            "finding {OPEN} (LB[1].HGB) is resolved but the trail says open",
            id="finding resolved",
        ),
        pytest.param(
            [
                "UPDATE subject SET site_id = (SELECT id FROM site WHERE code = 'TLS') "
                "WHERE identifier = 'BDX-002'"
            ],
            "subject BDX-002 is at site TLS but was registered at BDX",
            id="subject moved to another site",
        ),
        pytest.param(
            [
                "INSERT INTO role_assignment (user_id, role, site_id, granted_at) "
                "SELECT id, 'investigator', (SELECT id FROM site WHERE code = 'BDX'), "
                "CURRENT_TIMESTAMP FROM user_account WHERE username = 'bob'"
            ],
            "role investigator@BDX of user bob has no grant in the trail",
            id="role granted",
        ),
        pytest.param(
            ["UPDATE user_account SET active = true WHERE username = 'dave'"],
            "user dave is active but the trail deactivated the account",
            id="user activated again",
        ),
        pytest.param(
            [
                "UPDATE form_entry SET visit_id = (SELECT visit.id FROM visit JOIN subject "
                "ON subject.id = visit.subject_id WHERE identifier = 'BDX-002' "
                "AND visit_oid = 'SCR') WHERE form_oid = 'DM'"
            ],
            "form entry {DM} is at BDX-002 SCR DM but the trail created it at BDX-001 SCR DM",
            id="form moved to another subject",
        ),
        pytest.param(
            ["UPDATE data_query SET state = 'closed' WHERE state = 'open'"],
            "query 2 is closed but the trail left it open",
            id="query closed",
        ),
        pytest.param(
            ["UPDATE query_message SET text = 'No answer needed.' WHERE kind = 'answered'"],
            "query 1: its messages are not those of the trail",
            id="query answer rewritten",
        ),
        pytest.param(
            ["UPDATE data_query SET item_oid = 'HEIGHT' WHERE id = 1"],
            "query 1 is on SCR[1]/DM/DM[1].HEIGHT but the trail opened it on "
            "SCR[1]/DM/DM[1].WEIGHT",
            id="query moved to another item",
        ),
        pytest.param(
            ["DELETE FROM query_message WHERE query_id = 2", "DELETE FROM data_query WHERE id = 2"],
            "query 2 is missing from the data but the trail opened it",
            id="query deleted",
        ),
        pytest.param(
            [
                "INSERT INTO data_query (subject_id, visit_id, level, state, opened_at) "
                "SELECT subject_id, id, 'visit', 'closed', CURRENT_TIMESTAMP FROM visit "
                "WHERE visit_oid = 'UNS'"
            ],
            "query 3 has no opening in the trail",
            id="query planted",
        ),
    ],
)
def test_data_changed_behind_the_applications_back_is_named(
    app, clinic, runner, statements, expected
):
    with app.app_context():
        open_finding = db.session.scalar(sa.select(Finding.id).where(Finding.status == "open"))
    ids = {
        "DM": entry_id(app, "BDX-001", "DM"),
        "AE": entry_id(app, "BDX-001", "AE"),
        "OPEN": open_finding,
    }
    intrude(app, *statements)
    code, output = verify(runner)
    assert code == 1
    assert f"- {expected.format(**ids)}" in output.splitlines(), output


def test_every_problem_is_counted_and_the_first_twenty_shown(app, clinic, runner):
    recorded = len(events(app))
    intrude(app, "UPDATE audit_event SET actor = 'mallory'")
    code, output = verify(runner)
    lines = output.splitlines()
    assert code == 1 and recorded > 20
    assert lines[0].startswith(f"Audit trail NOT intact: {recorded} problems found")
    assert len([line for line in lines if line.startswith("- ")]) == 20
    assert lines[-1] == f"... and {recorded - 20} more."


def test_the_checkpoint_command_appends_a_verifiable_line(app, clinic, runner):
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from ecrf.audit.checkpoints import checkpoint_path, read_checkpoints

        head_seq = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
        lines = list(read_checkpoints(AUDIT_KEY.encode(), checkpoint_path()))
    assert lines[-1].seq == head_seq
    assert result.output.startswith("Checkpoint written to ")
    assert f": #{head_seq} {lines[-1].hash} at " in result.output
    code, output = verify(runner)
    assert code == 0 and "2 checkpoints matched" in output, output
