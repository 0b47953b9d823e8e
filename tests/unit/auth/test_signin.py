"""Sign-in, failure counting and lockout, as services."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth import services
from ecrf.auth.models import LoginThrottle
from ecrf.auth.roles import Role
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


def attempt(username: str, password: str):
    result = services.authenticate(username, password)
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
    for _ in range(5):
        attempt("alice", "wrong password!!")
    throttle = db.session.get(LoginThrottle, "alice")
    throttle.locked_until -= timedelta(minutes=15, seconds=1)
    db.session.commit()
    assert attempt("alice", PASSWORD).user is not None


def test_lock_still_holds_a_second_before_it_expires(alice, app_ctx):
    for _ in range(5):
        attempt("alice", "wrong password!!")
    throttle = db.session.get(LoginThrottle, "alice")
    throttle.locked_until -= timedelta(minutes=14, seconds=59)
    db.session.commit()
    assert attempt("alice", PASSWORD).user is None


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
