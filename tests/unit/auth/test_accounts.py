"""Account services: creation, roles, deactivation, passwords; each leaves audit events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth import passwords, services
from ecrf.auth.models import RoleAssignment, User
from ecrf.auth.roles import Role
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.sites import get_site
from tests.conftest import PASSWORD


def events(entity_id: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity == "user", AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.seq)
        )
    )


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.fixture
def sites(create_site):
    create_site("BDX")
    create_site("TLS")


@pytest.fixture
def admin(sites, create_user, app_ctx):
    return db.session.get(User, create_user("root.admin", Role.ADMIN))


def test_creating_a_user_hashes_the_password_and_records_who_did_it(admin):
    user = services.create_user("Bob.Martin", "Bob Martin", PASSWORD, actor=admin)
    db.session.commit()
    assert user.username == "bob.martin"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    (event,) = events("bob.martin")
    assert (event.action, event.actor, event.actor_id, event.new) == (
        "user_created",
        "root.admin",
        admin.id,
        "Bob Martin",
    )


@pytest.mark.parametrize(
    ("username", "password", "field", "message"),
    [
        ("bob", "x" * 11, "password", "at least 12 characters"),
        ("bob", "mybobpassword1", "password", "must not contain the username"),
        ("bob", "MyBOBpassword1", "password", "must not contain the username"),
        ("b", PASSWORD, "username", "3 to 40 characters"),
        ("bob smith", PASSWORD, "username", "3 to 40 characters"),
        ("-bob", PASSWORD, "username", "3 to 40 characters"),
        ("bob", "x" * 257, "password", "at most 256"),
    ],
)
def test_bad_usernames_and_passwords_are_refused_at_their_field(
    admin, username, password, field, message
):
    before = user_count()
    with pytest.raises(RuleViolation, match=message) as caught:
        services.create_user(username, "Bob", password, actor=admin)
    db.session.rollback()
    assert caught.value.field == field
    assert user_count() == before
    assert events(username) == []


def test_password_of_exactly_twelve_characters_is_accepted(admin):
    assert passwords.password_problems("tq7-vmz2-plx", "bob") == []
    assert passwords.password_problems("tq7-vmz2-pl", "bob") != []


@pytest.mark.parametrize(
    ("password", "feedback"),
    [
        ("password1234", "This is a very common password."),
        ("x" * 12, 'Repeats like "aaa" are easy to guess.'),
        ("qwertyuiopas", "This is similar to a commonly used password."),
        ("Bordeaux2026!", "Add another word or two."),
    ],
)
def test_guessable_passwords_are_refused_with_the_reason_at_the_password_field(
    admin, password, feedback
):
    with pytest.raises(RuleViolation) as caught:
        services.create_user("bob", "Bob", password, actor=admin)
    db.session.rollback()
    assert caught.value.field == "password"
    assert caught.value.message.startswith("This password is too easy to guess.")
    assert feedback in caught.value.message
    assert services.get_user("bob") is None


def test_the_persons_own_names_count_as_easy_to_guess(admin):
    strong_for_a_stranger = "zorbiqvantrell"
    assert passwords.password_problems(strong_for_a_stranger, "zoe") == []
    assert passwords.password_problems(strong_for_a_stranger, "zv", ["Zorbiq", "Vantrell"])
    with pytest.raises(RuleViolation, match="too easy to guess"):
        services.create_user("zvan", "Zorbiq Vantrell", strong_for_a_stranger, actor=admin)
    services.create_user("zoe", "Zoe Martin", strong_for_a_stranger, actor=admin)


def test_the_minimum_strength_score_is_configurable(make_app):
    app = make_app(PASSWORD_MIN_SCORE=0)
    with app.app_context():
        assert passwords.password_problems("password1234", "bob") == []
    app = make_app(PASSWORD_MIN_SCORE=4)
    with app.app_context():
        assert passwords.password_problems("iahprrt-secret", "bob") != []


def test_the_test_passphrase_meets_the_default_policy(admin):
    assert passwords.password_problems(PASSWORD, "bob") == []


def test_a_username_is_never_reused_even_after_deactivation(admin):
    bob = services.create_user("bob", "Bob", PASSWORD, actor=admin)
    services.deactivate_user(bob, actor=admin, reason="left")
    db.session.commit()
    with pytest.raises(RuleViolation, match="never reused"):
        services.create_user("BOB", "Another Bob", PASSWORD, actor=admin)


def test_granting_and_revoking_roles_is_audited_with_the_site(admin):
    bob = services.create_user("bob", "Bob", PASSWORD, actor=admin)
    bdx = get_site("BDX")
    assignment = services.grant_role(bob, Role.INVESTIGATOR, bdx, actor=admin)
    db.session.commit()
    services.revoke_role(assignment, actor=admin)
    db.session.commit()
    granted, revoked = events("bob")[1:]
    assert (granted.action, granted.new, granted.site_id) == (
        "role_granted",
        "investigator@BDX",
        bdx.id,
    )
    assert (revoked.action, revoked.old) == ("role_revoked", "investigator@BDX")
    assert (
        db.session.scalars(sa.select(RoleAssignment).where(RoleAssignment.user_id == bob.id)).all()
        == []
    )


def test_the_same_role_twice_at_the_same_site_is_refused(admin):
    bob = services.create_user("bob", "Bob", PASSWORD, actor=admin)
    services.grant_role(bob, Role.MONITOR, None, actor=admin)
    with pytest.raises(RuleViolation, match="already has this role"):
        services.grant_role(bob, Role.MONITOR, None, actor=admin)


def test_administrator_role_exists_only_for_all_sites(admin):
    bob = services.create_user("bob", "Bob", PASSWORD, actor=admin)
    with pytest.raises(RuleViolation, match="applies to all sites"):
        services.grant_role(bob, Role.ADMIN, get_site("BDX"), actor=admin)


def test_site_data_manager_manages_roles_at_own_site_only(sites, create_user, app_ctx):
    dm = db.session.get(User, create_user("dm.bdx", Role.DATA_MANAGER, "BDX"))
    bdx = get_site("BDX")
    bob = services.create_user("bob", "Bob", PASSWORD, actor=dm, role=Role.SITE_STAFF, site=bdx)
    services.grant_role(bob, Role.INVESTIGATOR, bdx, actor=dm)
    with pytest.raises(PermissionDenied):
        services.grant_role(bob, Role.SITE_STAFF, get_site("TLS"), actor=dm)
    with pytest.raises(PermissionDenied):
        services.grant_role(bob, Role.MONITOR, None, actor=dm)
    # Staff leaving the site: its own data manager deactivates the account.
    services.deactivate_user(bob, actor=dm, reason="Left the unit")
    assert not bob.active


def test_only_an_administrator_makes_administrators(sites, create_user, app_ctx):
    dm = db.session.get(User, create_user("dm.all", Role.DATA_MANAGER))
    bob = services.create_user("bob", "Bob", PASSWORD, actor=dm)
    with pytest.raises(PermissionDenied, match="Only an administrator"):
        services.grant_role(bob, Role.ADMIN, None, actor=dm)


def test_staff_cannot_create_accounts(sites, create_user, app_ctx):
    staff = db.session.get(User, create_user("staff", Role.SITE_STAFF, "BDX"))
    with pytest.raises(PermissionDenied):
        services.create_user("bob", "Bob", PASSWORD, actor=staff)


def test_deactivation_needs_a_reason_ends_sessions_and_is_audited(admin):
    bob = services.create_user("bob", "Bob", PASSWORD, actor=admin)
    token = bob.session_token
    with pytest.raises(RuleViolation, match="reason") as caught:
        services.deactivate_user(bob, actor=admin, reason="  ")
    assert caught.value.field == "reason"
    services.deactivate_user(bob, actor=admin, reason="Left the hospital")
    db.session.commit()
    assert not bob.active and bob.deactivated_at is not None and bob.session_token != token
    last = events("bob")[-1]
    assert (last.action, last.old, last.new, last.reason) == (
        "user_deactivated",
        "true",
        "false",
        "Left the hospital",
    )


def test_the_last_administrator_cannot_be_removed_or_deactivated(admin, create_user):
    (assignment,) = admin.roles
    with pytest.raises(RuleViolation, match="last active administrator"):
        services.revoke_role(assignment, actor=None)
    with pytest.raises(RuleViolation, match="last active administrator"):
        services.deactivate_user(admin, actor=None, reason="test")
    db.session.rollback()  # end this read transaction: the next admin comes from elsewhere
    other = db.session.get(User, create_user("second.admin", Role.ADMIN))
    services.deactivate_user(admin, actor=other, reason="replaced")


def test_nobody_deactivates_themselves(admin, create_user):
    db.session.get(User, create_user("second.admin", Role.ADMIN))
    with pytest.raises(RuleViolation, match="your own account"):
        services.deactivate_user(admin, actor=admin, reason="oops")


def test_changing_own_password_checks_the_current_one(admin):
    bob = services.create_user("bob", "Bob", PASSWORD, actor=admin)
    with pytest.raises(RuleViolation) as caught:
        services.change_own_password(bob, "not it at all", "a brand new secret")
    assert caught.value.field == "current_password"
    token = bob.session_token
    services.change_own_password(bob, PASSWORD, "a brand new secret")
    db.session.commit()
    assert passwords.verify_password(bob.password_hash, "a brand new secret")
    assert bob.session_token != token
    assert events("bob")[-1].action == "password_changed"


def test_password_hashes_made_with_old_parameters_are_upgraded_at_sign_in(make_app):
    app = make_app(PASSWORD_HASH_PROFILE="cheapest")
    with app.app_context():
        services.create_user("bob", "Bob", PASSWORD, actor=None)
        db.session.commit()
    app.config["PASSWORD_HASH_PROFILE"] = "rfc9106_low_memory"
    with app.app_context():
        old = services.get_user("bob").password_hash
        assert services.authenticate("bob", PASSWORD).user is not None
        db.session.commit()
        new = services.get_user("bob").password_hash
        assert new != old and "m=65536" in new
