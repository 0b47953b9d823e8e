"""Account services: create, sign in with lockout, roles, deactivation, passwords.

Every function flushes and records its audit event in the caller's transaction; none
commits. ``actor`` is the signed-in user acting, or None for an operator at the command
line (who is trusted with the database already).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ecrf.audit.services import record_event
from ecrf.auth import passwords
from ecrf.auth.models import LoginThrottle, RoleAssignment, User, new_session_token
from ecrf.auth.permissions import can, can_everywhere, check
from ecrf.auth.roles import ALL_SITES_ONLY, Perm, Role
from ecrf.db import utcnow
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.study.models import Site

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
ANONYMOUS = "anonymous"
INVALID_LOGIN = "Unknown username or wrong password."
LOCKED_LOGIN = (
    "Too many failed sign-ins: sign-in with this username is blocked for {minutes} minutes. "
    "Try again later, or ask an administrator to unlock it."
)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def get_user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == normalise_username(username)))


def _require_manager(actor: User | None, site_id: int | None = None) -> None:
    if actor is None:
        return
    check(actor, Perm.MANAGE_USERS, site_id)


def _require_global_manager(actor: User | None) -> None:
    if actor is not None and not can_everywhere(actor, Perm.MANAGE_USERS):
        raise PermissionDenied("Only a user manager for all sites can do this.")


def create_user(
    username: str,
    full_name: str,
    password: str,
    *,
    actor: User | None,
    email: str | None = None,
) -> User:
    """Create an active account with no role.

    :raises RuleViolation: bad or already used username (usernames are never reused),
        empty name, or a password against the policy; ``field`` names the culprit.
    """
    _require_manager(actor)
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise RuleViolation(
            "Use 3 to 40 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            field="username",
        )
    if get_user(username) is not None:
        raise RuleViolation(
            f"The username {username!r} is already taken (usernames are never reused, "
            "even after deactivation).",
            field="username",
        )
    full_name = full_name.strip()
    if not full_name:
        raise RuleViolation("Give the person's full name.", field="full_name")
    problems = passwords.password_problems(password, username)
    if problems:
        raise RuleViolation(" ".join(problems), field="password")
    user = User(
        username=username,
        full_name=full_name,
        email=(email or "").strip() or None,
        password_hash=passwords.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    record_event("user_created", "user", username, actor=actor, field="full_name", new=full_name)
    return user


def grant_role(user: User, role: Role, site: Site | None, *, actor: User | None) -> RoleAssignment:
    """Give ``user`` a role at ``site`` (None: every site).

    Only administrators grant the administrator role, and a role for every site needs a
    user manager for every site.

    :raises RuleViolation: inactive user, duplicate assignment, or a role that must be
        for every site given one site.
    :raises PermissionDenied: the actor may not manage this site's users.
    """
    site_id = site.id if site is not None else None
    if site is None:
        _require_global_manager(actor)
    else:
        _require_manager(actor, site_id)
    if role is Role.ADMIN and actor is not None and not _is_admin(actor):
        raise PermissionDenied("Only an administrator can make someone an administrator.")
    if not user.active:
        raise RuleViolation("This account is deactivated; it cannot receive roles.", field="role")
    if role in ALL_SITES_ONLY and site is not None:
        raise RuleViolation(f"The {role.label} role applies to all sites.", field="site")
    if any(a.role == role and a.site_id == site_id for a in user.roles):
        raise RuleViolation("The user already has this role here.", field="role")
    assignment = RoleAssignment(
        user=user, role=role, site=site, granted_by_id=actor.id if actor else None
    )
    db.session.add(assignment)
    db.session.flush()
    record_event(
        "role_granted",
        "user",
        user.username,
        actor=actor,
        site_id=site_id,
        field="role",
        new=f"{role.value}@{site.code if site else '*'}",
    )
    return assignment


def revoke_role(assignment: RoleAssignment, *, actor: User | None) -> None:
    """Remove a role assignment (the audit trail keeps it).

    :raises RuleViolation: it would leave the system without an active administrator.
    """
    if assignment.site_id is None:
        _require_global_manager(actor)
    else:
        _require_manager(actor, assignment.site_id)
    if assignment.role is Role.ADMIN and actor is not None and not _is_admin(actor):
        raise PermissionDenied("Only an administrator can remove the administrator role.")
    if assignment.role is Role.ADMIN and _active_admin_count() <= 1:
        raise RuleViolation("This is the last active administrator; appoint another first.")
    user = assignment.user
    label = f"{assignment.role.value}@{assignment.site.code if assignment.site else '*'}"
    site_id = assignment.site_id
    user.roles.remove(assignment)
    db.session.delete(assignment)
    db.session.flush()
    record_event(
        "role_revoked", "user", user.username, actor=actor, site_id=site_id, field="role", old=label
    )


def deactivate_user(user: User, *, actor: User | None, reason: str) -> None:
    """Deactivate an account for good: it cannot sign in and its sessions end.

    :raises RuleViolation: no reason, own account, already inactive, or last administrator.
    """
    _require_global_manager(actor)
    reason = reason.strip()
    if not reason:
        raise RuleViolation("Give the reason for deactivation.", field="reason")
    if actor is not None and actor.id == user.id:
        raise RuleViolation("You cannot deactivate your own account.")
    if not user.active:
        raise RuleViolation("This account is already deactivated.")
    if any(a.role is Role.ADMIN for a in user.roles) and _active_admin_count() <= 1:
        raise RuleViolation("This is the last active administrator; appoint another first.")
    user.active = False
    user.deactivated_at = utcnow()
    user.session_token = new_session_token()
    db.session.flush()
    record_event(
        "user_deactivated",
        "user",
        user.username,
        actor=actor,
        field="active",
        old="true",
        new="false",
        reason=reason,
    )


def set_password(user: User, password: str, *, actor: User | None) -> None:
    """Set a new password chosen by an administrator (or the demo); ends the user's sessions.

    :raises RuleViolation: against the policy (``field`` = "password").
    """
    _require_manager(actor)
    _apply_password(user, password)
    record_event("password_reset", "user", user.username, actor=actor)


def change_own_password(user: User, current: str, new: str) -> None:
    """A user changes their own password, proving the current one.

    :raises RuleViolation: wrong current password, or a new one against the policy.
    """
    if not passwords.verify_password(user.password_hash, current):
        raise RuleViolation("The current password is wrong.", field="current_password")
    if current == new:
        raise RuleViolation("Choose a password different from the current one.", field="password")
    _apply_password(user, new)
    record_event("password_changed", "user", user.username, actor=user)


def _apply_password(user: User, password: str) -> None:
    problems = passwords.password_problems(password, user.username)
    if problems:
        raise RuleViolation(" ".join(problems), field="password")
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()
    db.session.flush()


def _is_admin(user: User) -> bool:
    return user.active and any(a.role is Role.ADMIN for a in user.roles)


def _active_admin_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(User.id)))
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(User.active.is_(True), RoleAssignment.role == Role.ADMIN)
    )


# --- signing in -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    user: User | None
    message: str | None = None


def _throttle_for(name: str) -> LoginThrottle:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(LoginThrottle)
        .values(username=name, failures=0)
        .on_conflict_do_nothing(index_elements=["username"])
    )
    # Lock the row so concurrent failures count one after the other.
    return db.session.scalars(
        sa.select(LoginThrottle)
        .where(LoginThrottle.username == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def authenticate(username: str, password: str) -> SignIn:
    """Check a sign-in attempt, counting failures per username and locking after too many.

    Unknown usernames, wrong passwords and deactivated accounts all get the same answer,
    and an unknown username locks like a real one, so nothing tells whether it exists.
    """
    config = current_app.config
    name = normalise_username(username)[:80]
    now = utcnow()
    lock_minutes = config["LOCKOUT_MINUTES"]
    throttle = _throttle_for(name)
    user = get_user(name) if name else None
    entity_id = name[:64] or "(empty)"

    if throttle.locked_until is not None:
        if throttle.locked_until > now:
            passwords.burn_verification_time(password)
            record_event("login_refused_locked", "user", entity_id, actor_label=ANONYMOUS)
            return SignIn(None, LOCKED_LOGIN.format(minutes=lock_minutes))
        throttle.locked_until = None
        throttle.failures = 0

    if user is not None and user.active and passwords.verify_password(user.password_hash, password):
        throttle.failures = 0
        throttle.last_failure_at = None
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        user.last_login_at = now
        db.session.flush()
        record_event("login", "user", user.username, actor=user)
        return SignIn(user)

    if user is None:
        passwords.burn_verification_time(password)
    throttle.failures += 1
    throttle.last_failure_at = now
    record_event("login_failed", "user", entity_id, actor_label=ANONYMOUS)
    if throttle.failures >= config["LOCKOUT_THRESHOLD"]:
        throttle.locked_until = now + timedelta(minutes=lock_minutes)
        record_event(
            "lockout",
            "user",
            entity_id,
            actor_label=ANONYMOUS,
            new=f"locked until {throttle.locked_until.isoformat(timespec='seconds')}",
        )
        db.session.flush()
        return SignIn(None, LOCKED_LOGIN.format(minutes=lock_minutes))
    db.session.flush()
    return SignIn(None, INVALID_LOGIN)


def locked_until(username: str) -> datetime | None:
    throttle = db.session.get(LoginThrottle, normalise_username(username))
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= utcnow():
        return None
    return throttle.locked_until


def unlock(username: str, *, actor: User | None) -> None:
    """Lift a sign-in lockout before it expires."""
    _require_manager(actor)
    throttle = db.session.get(LoginThrottle, normalise_username(username))
    if throttle is None or throttle.locked_until is None:
        raise RuleViolation("This username is not locked.")
    throttle.locked_until = None
    throttle.failures = 0
    db.session.flush()
    record_event("unlocked", "user", throttle.username, actor=actor)


def record_logout(user: User, *, timed_out: bool = False) -> None:
    """Record a sign-out (or an idle time-out) and end every session of the user."""
    user.session_token = new_session_token()
    db.session.flush()
    record_event("session_timeout" if timed_out else "logout", "user", user.username, actor=user)


def visible_roles_for(actor: User) -> list[Role]:
    """Roles the actor may hand out."""
    roles = [r for r in Role if r is not Role.ADMIN or _is_admin(actor)]
    return roles if can(actor, Perm.MANAGE_USERS) else []
