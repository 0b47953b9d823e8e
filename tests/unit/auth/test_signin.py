"""Sign-in, failure counting and lockout, as services."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth import services
from ecrf.auth.roles import Role
from ecrf.db import utcnow
from ecrf.extensions import db
from tests.conftest import PASSWORD


def actions_for(entity_id: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.entity == "user", AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.seq)
        )
    )


@pytest.fixture
def alice(create_site, create_user):
    create_site("BDX")
    return create_user("alice", Role.SITE_STAFF, "BDX")


HOME = "10.1.1.10"  # the real user's usual workstation
ATTACKER = "203.0.113.66"
ELSEWHERE = "10.1.1.77"  # another hospital workstation the user never used


def attempt(username: str, password: str, source: str = HOME, *, now: datetime | None = None):
    result = services.authenticate(username, password, source, now=now)
    db.session.commit()
    return result


def test_correct_password_signs_in_and_is_recorded(alice, app_ctx):
    result = attempt("Alice ", PASSWORD)
    assert result.user is not None and result.user.username == "alice"
    assert result.user.last_login_at is not None
    assert actions_for("alice")[-1] == "login"
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.at.tzinfo is not None and event.at.utcoffset() == timedelta(0)


def test_five_failures_lock_the_account_even_for_the_right_password(alice, app_ctx):
    for _ in range(4):
        assert attempt("alice", "wrong password!!").message == services.INVALID_LOGIN
    fifth = attempt("alice", "wrong password!!")
    assert fifth.user is None and "blocked for 15 minutes" in fifth.message
    refused = attempt("alice", PASSWORD)
    assert refused.user is None and refused.message == fifth.message
    assert actions_for("alice")[-3:] == ["login_failed", "lockout", "login_refused_locked"]
    assert actions_for("alice").count("login_failed") == 5


def test_lock_expires_after_fifteen_minutes(alice, app_ctx):
    start = utcnow()
    for _ in range(5):
        attempt("alice", "wrong password!!", now=start)
    later = start + timedelta(minutes=15, seconds=1)
    assert attempt("alice", PASSWORD, now=later).user is not None


def test_lock_still_holds_a_second_before_it_expires(alice, app_ctx):
    start = utcnow()
    for _ in range(5):
        attempt("alice", "wrong password!!", now=start)
    almost = start + timedelta(minutes=14, seconds=59)
    assert attempt("alice", PASSWORD, now=almost).user is None
    assert attempt("alice", PASSWORD, now=almost + timedelta(seconds=2)).user is not None


def test_a_success_resets_the_count_of_consecutive_failures(alice, app_ctx):
    for _ in range(4):
        attempt("alice", "wrong password!!")
    assert attempt("alice", PASSWORD).user is not None
    for _ in range(4):
        attempt("alice", "wrong password!!")
    assert attempt("alice", PASSWORD).user is not None


def test_unknown_username_answers_and_locks_exactly_like_a_real_one(alice, app_ctx):
    real = [attempt("alice", "wrong password!!").message for _ in range(6)]
    ghost = [attempt("nobody", "wrong password!!").message for _ in range(6)]
    assert real == ghost
    assert actions_for("nobody")[-1] == "login_refused_locked"


def test_deactivated_account_cannot_sign_in_and_says_nothing_more(alice, app_ctx):
    user = services.get_user("alice")
    services.deactivate_user(user, actor=None, reason="left the unit")
    db.session.commit()
    result = attempt("alice", PASSWORD)
    assert result.user is None and result.message == services.INVALID_LOGIN


def test_administrator_unlock_lifts_the_lock(alice, app_ctx):
    for _ in range(5):
        attempt("alice", "wrong password!!")
    services.unlock("alice", actor=None)
    db.session.commit()
    assert attempt("alice", PASSWORD).user is not None
    assert "unlocked" in actions_for("alice")


def test_lockout_threshold_and_duration_are_configurable(make_app, create_site):
    app = make_app(LOCKOUT_THRESHOLD=2, LOCKOUT_MINUTES=3)
    with app.app_context():
        user = services.create_user("carol", "Carol", PASSWORD, actor=None)
        db.session.commit()
        assert attempt("carol", "wrong password!!").message == services.INVALID_LOGIN
        second = attempt("carol", "wrong password!!")
        assert "blocked for 3 minutes" in second.message
        assert user.username == "carol"


# --- nobody can keep someone else out -----------------------------------------------------


def test_an_attacker_failing_a_hundred_times_cannot_keep_the_user_out(alice, app_ctx):
    messages = [attempt("alice", f"guess number {i:03}", ATTACKER).message for i in range(100)]
    assert messages[:4] == [services.INVALID_LOGIN] * 4
    assert all("blocked for 15 minutes" in m for m in messages[4:])
    # The attacker's own source is blocked, even with the right password...
    assert attempt("alice", PASSWORD, ATTACKER).user is None
    # ...while the user signs in from their workstation, and from one never used before.
    assert attempt("alice", PASSWORD, HOME).user is not None
    assert attempt("alice", PASSWORD, ELSEWHERE).user is not None
    # Only the first five were checked and counted; the rest were refused unchecked.
    assert actions_for("alice").count("login_failed") == 5
    assert actions_for("alice").count("login_refused_locked") == 96


def test_nobody_can_keep_the_administrator_out_either(create_user, app_ctx):
    create_user("root.admin", Role.ADMIN)
    for i in range(100):
        attempt("root.admin", f"guess number {i:03}", ATTACKER)
    assert attempt("root.admin", PASSWORD, ATTACKER).user is None
    assert attempt("root.admin", PASSWORD, HOME).user is not None


def test_a_source_guessing_many_usernames_is_blocked_for_all_of_them(alice, app_ctx):
    results = [attempt(f"user{i:02}", "wrong password!!", ATTACKER).message for i in range(30)]
    assert results[-1] == services.SOURCE_BLOCKED_LOGIN.format(minutes=15)
    assert results[:-1] == [services.INVALID_LOGIN] * 29
    refused = attempt("alice", PASSWORD, ATTACKER)
    assert refused.user is None and "from this computer" in refused.message
    assert attempt("alice", PASSWORD, HOME).user is not None
    assert "source_blocked" in actions_for("user29")


def test_a_blocked_source_is_free_again_after_the_lockout_time(alice, app_ctx):
    start = utcnow()
    for i in range(30):
        attempt(f"user{i:02}", "wrong password!!", ATTACKER, now=start)
    assert attempt("alice", PASSWORD, ATTACKER, now=start + timedelta(minutes=14)).user is None
    later = start + timedelta(minutes=15, seconds=1)
    assert attempt("alice", PASSWORD, ATTACKER, now=later).user is not None


def distributed_attack(username: str, start: datetime) -> datetime:
    """Forty machines, three guesses each, a minute apart (each one after the delay the
    previous one caused): none reaches its own lockout. Returns the time of the last."""
    now = start
    for machine in range(40):
        for guess in range(3):
            now += timedelta(seconds=61)
            attempt(username, f"guess {guess}", f"198.51.100.{machine}", now=now)
    return now


def test_an_attack_from_many_sources_delays_new_sources_only(alice, app_ctx):
    start = utcnow()
    assert attempt("alice", PASSWORD, HOME, now=start).user is not None
    end = distributed_attack("alice", start)
    assert actions_for("alice").count("login_failed") == 120
    delayed = attempt("alice", PASSWORD, ELSEWHERE, now=end)
    assert delayed.user is None
    assert delayed.message == services.DELAYED_LOGIN.format(seconds=60)
    # The user's own workstation is not delayed.
    assert attempt("alice", PASSWORD, HOME, now=end).user is not None
    # The delay is progressive, not a lock: once it has passed, a new source may try.
    assert attempt("alice", PASSWORD, ELSEWHERE, now=end + timedelta(seconds=61)).user
    # A delay is no hint that the account exists: an unknown name is delayed alike.
    end = distributed_attack("nobody", start)
    assert attempt("nobody", PASSWORD, ELSEWHERE, now=end).message == delayed.message


def test_the_delay_doubles_with_each_failure_up_to_the_maximum(make_app):
    app = make_app(LOGIN_DELAY_THRESHOLD=3, LOGIN_DELAY_MAX_SECONDS=10)
    with app.app_context():
        start = utcnow()
        waits = []
        for i in range(6):
            now = start + timedelta(minutes=i)  # each guess after the previous delay ended
            attempt("carol", "wrong password!!", f"192.0.2.{i}", now=now)
            until = services.locked_until("carol", now=now)
            waits.append(None if until is None else round((until - now).total_seconds()))
        assert waits == [None, None, 2, 4, 8, 10]


def test_failures_from_a_source_are_forgotten_after_the_lockout_time(alice, app_ctx):
    start = utcnow()
    for _ in range(4):
        attempt("alice", "wrong password!!", ATTACKER, now=start)
    later = start + timedelta(minutes=15, seconds=1)
    assert attempt("alice", "wrong password!!", ATTACKER, now=later).message == (
        services.INVALID_LOGIN
    )


def test_failures_and_refusals_are_audited_with_their_source(alice, app_ctx):
    for _ in range(6):
        attempt("alice", "wrong password!!", ATTACKER)
    details = db.session.scalars(
        sa.select(AuditEvent.new).where(AuditEvent.entity_id == "alice").order_by(AuditEvent.seq)
    ).all()
    assert details.count(f"from {ATTACKER}") == 6
    assert any(d and d.startswith(f"locked from {ATTACKER} until") for d in details)


def test_unlock_lifts_every_block_on_the_username(alice, app_ctx):
    for source in (ATTACKER, HOME):
        for _ in range(5):
            attempt("alice", "wrong password!!", source)
    assert services.locked_until("alice") is not None
    services.unlock("alice", actor=None)
    db.session.commit()
    assert services.locked_until("alice") is None
    assert attempt("alice", PASSWORD, ATTACKER).user is not None
