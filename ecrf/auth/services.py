"""Account services: create, sign in with lockout, roles, deactivation, passwords.

Every function flushes and records its audit event in the caller's transaction; none
commits. ``actor`` is the signed-in user acting, or None for an operator at the command
line (who is trusted with the database already).

Who manages whom (:func:`can_manage`): a user manager acts on an account only if it could
have granted every role the account holds, so a site-scoped manager never touches an
administrator, an all-site account or an account with a role at another site; accounts
with no role are managed from all sites only. Nobody changes their own roles, password
(other than through their own account page) or activation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from ecrf.audit.services import record_event
from ecrf.auth import passwords
from ecrf.auth.models import ANY, LoginThrottle, RoleAssignment, User, new_session_token
from ecrf.auth.permissions import can, can_everywhere, require_permission
from ecrf.auth.roles import ALL_SITES_ONLY, DATA_ENTRY_ROLES, OVERSIGHT_ROLES, Perm, Role
from ecrf.db import utcnow
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.models import Site

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
ANONYMOUS = "anonymous"
#: The source of a sign-in that did not come over the network (scripts, tests).
LOCAL_SOURCE = "local"
INVALID_LOGIN = "Unknown username or wrong password."
WRONG_IDENTITY = "Wrong username or password."
LOCKED_LOGIN = (
    "Too many failed sign-ins: sign-in with this username is blocked for {minutes} minutes. "
    "Try again later, or ask an administrator to unlock it."
)
SOURCE_BLOCKED_LOGIN = (
    "Too many failed sign-ins from this computer: sign-in from it is blocked for {minutes} minutes."
)
DELAYED_LOGIN = (
    "Too many failed sign-ins with this username: wait {seconds} seconds before trying again."
)
OUT_OF_SCOPE = "You are not allowed to manage this account."
GLOBAL_ONLY = "Only a user manager for all sites can do this."
FIRST_ROLE_NEEDED = (
    "Choose the first role: an account you create must hold a role at one of your sites."
)
OWN_ROLES = "You cannot change your own roles; ask another user manager."
OWN_PASSWORD = "Change your own password on your account page."
OWN_ACCOUNT = "You cannot deactivate your own account."
SEPARATION_TO_ENTRY = (
    "This account holds an administrator or data manager role: it cannot also enter or "
    "sign data. Give the person a separate account."
)
SEPARATION_TO_OVERSIGHT = (
    "This account holds a data-entry or signing role: it cannot also be administrator or "
    "data manager. Give the person a separate account."
)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def get_user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == normalise_username(username)))


def _require_manager(actor: User | None, site_id: int | None = None) -> None:
    if actor is None:
        return
    require_permission(actor, Perm.MANAGE_USERS, site_id)


def _require_global_manager(actor: User | None) -> None:
    if actor is not None and not can_everywhere(actor, Perm.MANAGE_USERS):
        raise PermissionDenied(GLOBAL_ONLY)


def _may_hand_out(actor: User, role: Role, site_id: int | None) -> bool:
    if role is Role.ADMIN and not _is_admin(actor):
        return False
    if site_id is None:
        return can_everywhere(actor, Perm.MANAGE_USERS)
    return can(actor, Perm.MANAGE_USERS, site_id)


def can_manage(actor: User | None, target: User) -> bool:
    """Whether ``actor`` may see and act on ``target``'s account in user management.

    The one scope rule of account management: the actor could have granted every role the
    target holds (administrator: administrators only; all sites: all-site managers only;
    a site: managers of that site). An account with no role yet is managed by all-site
    managers only (a site-scoped manager creates an account and its first role at once).
    The command-line operator (None) manages every account.
    """
    if actor is None:
        return True
    if not can(actor, Perm.MANAGE_USERS):
        return False
    if not target.roles:
        return can_everywhere(actor, Perm.MANAGE_USERS)
    return all(_may_hand_out(actor, a.role, a.site_id) for a in target.roles)


def check_manage(actor: User | None, target: User) -> None:
    """Raise :class:`PermissionDenied` unless :func:`can_manage` allows it."""
    if not can_manage(actor, target):
        raise PermissionDenied(OUT_OF_SCOPE)


def users_managed_by(actor: User | None) -> list[User]:
    """Every account ``actor`` may manage, active or not, by username."""
    users = db.session.scalars(
        sa.select(User).options(selectinload(User.roles)).order_by(User.username)
    ).all()
    return [u for u in users if can_manage(actor, u)]


def _is_self(actor: User | None, user: User) -> bool:
    return actor is not None and actor.id == user.id


def _password_inputs(user_or_names: User | tuple[str, str, str | None]) -> list[str]:
    """The person's own words, which a guesser tries first (zxcvbn ``user_inputs``)."""
    if isinstance(user_or_names, User):
        username, full_name, email = (
            user_or_names.username,
            user_or_names.full_name,
            user_or_names.email,
        )
    else:
        username, full_name, email = user_or_names
    words = [username, full_name, *re.split(r"[\s.'-]+", full_name)]
    if email:
        words.extend([email, *re.split(r"[@.+_-]+", email)])
    return [w for w in words if w]


def create_user(
    username: str,
    full_name: str,
    password: str,
    *,
    actor: User | None,
    email: str | None = None,
    role: Role | None = None,
    site: Site | None = None,
    must_change_password: bool = True,
) -> User:
    """Create an active account, with its first role when ``role`` is given.

    :param site: where ``role`` applies; None for every site.
    :param must_change_password: the person must choose their own password at the next
        sign-in (the default: whoever sets a password for someone else knows it). Only
        the demo's throwaway accounts, and an operator creating their own account, clear it.
    :raises RuleViolation: bad or already used username (usernames are never reused),
        empty name, a password against the policy, no first role from a site-scoped
        manager, or a refused first role; ``field`` names the culprit.
    :raises PermissionDenied: the actor manages no users, or not this role or site.
    """
    _require_manager(actor)
    if role is None and actor is not None and not can_everywhere(actor, Perm.MANAGE_USERS):
        raise RuleViolation(FIRST_ROLE_NEEDED, field="role")
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
    email = (email or "").strip() or None
    problems = passwords.password_problems(
        password, username, _password_inputs((username, full_name, email))
    )
    if problems:
        raise RuleViolation(" ".join(problems), field="password")
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        password_hash=passwords.hash_password(password),
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    record_event("user_created", "user", username, actor=actor, field="full_name", new=full_name)
    if role is not None:
        # The account is new and in nobody's scope yet: its first role decides the scope.
        _grant(user, role, site, actor=actor)
    return user


def grant_role(user: User, role: Role, site: Site | None, *, actor: User | None) -> RoleAssignment:
    """Give ``user`` a role at ``site`` (None: every site).

    The actor must manage the account (:func:`can_manage`) and may not change their own
    roles. Only administrators grant the administrator role, and a role for every site
    needs a user manager for every site. Separation of duties: an administrator or data
    manager never also receives a data-entry or signing role, nor the reverse.

    :raises RuleViolation: own account, inactive user, duplicate assignment, a role that
        must be for every site given one site, or a separation-of-duties conflict.
    :raises PermissionDenied: the actor may not manage this account, site or role.
    """
    check_manage(actor, user)
    if _is_self(actor, user):
        raise RuleViolation(OWN_ROLES, field="role")
    return _grant(user, role, site, actor=actor)


def _grant(user: User, role: Role, site: Site | None, *, actor: User | None) -> RoleAssignment:
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
    held = {a.role for a in user.roles}
    if role in DATA_ENTRY_ROLES and held & OVERSIGHT_ROLES:
        raise RuleViolation(SEPARATION_TO_ENTRY, field="role")
    if role in OVERSIGHT_ROLES and held & DATA_ENTRY_ROLES:
        raise RuleViolation(SEPARATION_TO_OVERSIGHT, field="role")
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

    :raises RuleViolation: own account, or it would leave the system without an active
        administrator.
    :raises PermissionDenied: the actor may not manage this account.
    """
    check_manage(actor, assignment.user)
    if _is_self(actor, assignment.user):
        raise RuleViolation(OWN_ROLES)
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

    Site-scoped managers deactivate the accounts they manage (staff leaving their site);
    the scope rule keeps them away from other sites' and all-site accounts.

    :raises RuleViolation: no reason, own account, already inactive, or last administrator.
    :raises PermissionDenied: the actor may not manage this account.
    """
    check_manage(actor, user)
    reason = reason.strip()
    if not reason:
        raise RuleViolation("Give the reason for deactivation.", field="reason")
    if _is_self(actor, user):
        raise RuleViolation(OWN_ACCOUNT)
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


def set_password(
    user: User, password: str, *, actor: User | None, must_change_password: bool = True
) -> None:
    """Set a new password chosen by a user manager (or the demo); ends the user's sessions.

    :param must_change_password: the user must replace it at the next sign-in (default:
        someone else knows it); the demo's throwaway accounts clear it.
    :raises RuleViolation: own account (use :func:`change_own_password`), or a password
        against the policy (``field`` = "password").
    :raises PermissionDenied: the actor may not manage this account.
    """
    check_manage(actor, user)
    if _is_self(actor, user):
        raise RuleViolation(OWN_PASSWORD, field="password")
    _apply_password(user, password)
    user.must_change_password = must_change_password
    db.session.flush()
    record_event(
        "password_reset",
        "user",
        user.username,
        actor=actor,
        field="must_change_password",
        new="true" if must_change_password else "false",
    )


def change_own_password(user: User, current: str, new: str) -> None:
    """A user changes their own password, proving the current one; this lifts any demand
    to change it.

    :raises RuleViolation: wrong current password, or a new one against the policy.
    """
    if not passwords.verify_password(user.password_hash, current):
        raise RuleViolation("The current password is wrong.", field="current_password")
    if current == new:
        raise RuleViolation("Choose a password different from the current one.", field="password")
    _apply_password(user, new)
    user.must_change_password = False
    db.session.flush()
    record_event("password_changed", "user", user.username, actor=user)


def _apply_password(user: User, password: str) -> None:
    problems = passwords.password_problems(password, user.username, _password_inputs(user))
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


def _throttles(name: str, source: str) -> tuple[LoginThrottle, LoginThrottle, LoginThrottle]:
    """The counters of (username, source), (every username, source) and (username, every
    source), created when missing and locked, in key order, for this transaction."""
    keys = sorted({(name, source), (ANY, source), (name, ANY)})
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for username, src in keys:
        db.session.execute(
            insert(LoginThrottle)
            .values(username=username, source=src, failures=0)
            .on_conflict_do_nothing(index_elements=["username", "source"])
        )
    # Lock the rows so concurrent failures count one after the other; always in the same
    # order, so two attempts never wait for each other's rows crosswise.
    rows = db.session.scalars(
        sa.select(LoginThrottle)
        .where(
            sa.or_(
                *(sa.and_(LoginThrottle.username == u, LoginThrottle.source == s) for u, s in keys)
            )
        )
        .order_by(LoginThrottle.username, LoginThrottle.source)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_key = {(r.username, r.source): r for r in rows}
    return by_key[(name, source)], by_key[(ANY, source)], by_key[(name, ANY)]


def _expire(row: LoginThrottle, now: datetime, window: timedelta, *, keep_count: bool) -> None:
    """Lift a lock that has run out; forget failures older than the window.

    ``keep_count``: a delay that ran out keeps its count, so the next one is longer.
    """
    if row.locked_until is not None and row.locked_until <= now:
        row.locked_until = None
        if not keep_count:
            row.failures = 0
    if row.last_failure_at is not None and row.last_failure_at <= now - window:
        row.failures = 0


def authenticate(
    username: str, password: str, source: str = LOCAL_SOURCE, *, now: datetime | None = None
) -> SignIn:
    """Check a sign-in attempt from ``source`` (the client's address).

    Failures are counted three ways, so that nobody can keep someone else out:

    - per username and source: LOCKOUT_THRESHOLD failures block that username from that
      source only for LOCKOUT_MINUTES (the user elsewhere is not affected);
    - per source: SOURCE_LOCKOUT_THRESHOLD failures, whatever the usernames, block the
      source for LOCKOUT_MINUTES (one machine guessing many accounts);
    - per username from every source: beyond LOGIN_DELAY_THRESHOLD failures (an attack from
      many sources), sources the user never signed in from wait a delay that doubles at
      each failure up to LOGIN_DELAY_MAX_SECONDS; the user's own sources are not delayed.

    A refused attempt is not checked and not counted. Unknown usernames, wrong passwords
    and deactivated accounts all get the same answers, and an unknown username is counted
    like a real one, so nothing tells whether it exists. Every failure and refusal is
    audited with its source.

    :param now: the current time (tests pass it to step through expiries).
    """
    now = now or utcnow()
    name = normalise_username(username)[:80] or "(empty)"
    source = (source or "unknown")[:64]
    entity_id = name[:64]
    detail = f"from {source}"
    pair, by_source, by_name = _throttles(name, source)
    refusal = _refusal(pair, by_source, by_name, now)
    user = get_user(name)
    if refusal is not None:
        passwords.burn_verification_time(password)
        db.session.flush()
        record_event("login_refused_locked", "user", entity_id, actor_label=ANONYMOUS, new=detail)
        return SignIn(None, refusal)

    if user is not None and user.active and passwords.verify_password(user.password_hash, password):
        _count_success(pair, user, password, now)
        user.last_login_at = now
        db.session.flush()
        record_event("login", "user", user.username, actor=user, new=detail)
        return SignIn(user)

    if user is None:
        passwords.burn_verification_time(password)
    record_event("login_failed", "user", entity_id, actor_label=ANONYMOUS, new=detail)
    message = _count_failure(pair, by_source, by_name, entity_id, source, now) or INVALID_LOGIN
    return SignIn(None, message)


def _refusal(
    pair: LoginThrottle, by_source: LoginThrottle, by_name: LoginThrottle, now: datetime
) -> str | None:
    """Expire what ran out; then why an attempt is refused unchecked, or None."""
    config = current_app.config
    window = timedelta(minutes=config["LOCKOUT_MINUTES"])
    _expire(pair, now, window, keep_count=False)
    _expire(by_source, now, window, keep_count=False)
    _expire(by_name, now, window, keep_count=True)
    if by_source.locked_until is not None:
        return SOURCE_BLOCKED_LOGIN.format(minutes=config["LOCKOUT_MINUTES"])
    if pair.locked_until is not None:
        return LOCKED_LOGIN.format(minutes=config["LOCKOUT_MINUTES"])
    if by_name.locked_until is not None and pair.last_success_at is None:
        wait = max(1, int((by_name.locked_until - now).total_seconds() + 0.999))
        return DELAYED_LOGIN.format(seconds=wait)
    return None


def _count_success(pair: LoginThrottle, user: User, password: str, now: datetime) -> None:
    pair.failures = 0
    pair.last_failure_at = None
    pair.last_success_at = now
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)


def _count_failure(
    pair: LoginThrottle,
    by_source: LoginThrottle,
    by_name: LoginThrottle,
    entity_id: str,
    source: str,
    now: datetime,
) -> str | None:
    """Count a failed attempt three ways; block or delay as the thresholds say (audited).
    Returns the message of a block it started, or None."""
    config = current_app.config
    window = timedelta(minutes=config["LOCKOUT_MINUTES"])
    for row in (pair, by_source, by_name):
        row.failures += 1
        row.last_failure_at = now
    message = None
    if by_name.failures >= config["LOGIN_DELAY_THRESHOLD"]:
        excess = by_name.failures - config["LOGIN_DELAY_THRESHOLD"]
        delay = min(2 ** min(excess + 1, 20), config["LOGIN_DELAY_MAX_SECONDS"])
        by_name.locked_until = now + timedelta(seconds=delay)
    if by_source.failures >= config["SOURCE_LOCKOUT_THRESHOLD"]:
        by_source.locked_until = now + window
        message = SOURCE_BLOCKED_LOGIN.format(minutes=config["LOCKOUT_MINUTES"])
        record_event(
            "source_blocked",
            "user",
            entity_id,
            actor_label=ANONYMOUS,
            new=f"{source} blocked until {by_source.locked_until.isoformat(timespec='seconds')}",
        )
    if pair.failures >= config["LOCKOUT_THRESHOLD"]:
        pair.locked_until = now + window
        message = LOCKED_LOGIN.format(minutes=config["LOCKOUT_MINUTES"])
        record_event(
            "lockout",
            "user",
            entity_id,
            actor_label=ANONYMOUS,
            new=f"locked from {source} until {pair.locked_until.isoformat(timespec='seconds')}",
        )
    db.session.flush()
    return message


@dataclass(frozen=True)
class Confirmation:
    """The outcome of :func:`confirm_identity`: ``refusal`` None when confirmed, else why
    not (``field``: the component at fault, "username" or "password", or None when
    blocked)."""

    refusal: str | None = None
    field: str | None = None

    @property
    def confirmed(self) -> bool:
        return self.refusal is None


def confirm_identity(
    user: User,
    password: str,
    source: str = LOCAL_SOURCE,
    *,
    username: str | None = None,
    purpose: str,
    now: datetime | None = None,
) -> Confirmation:
    """Check again that the signed-in ``user`` is who acts, before an electronic signature
    (21 CFR 11.200): their password, and their username too when ``username`` is given (the
    first signing of a session asks for both components).

    A wrong username or password counts like a failed sign-in of ``user`` from ``source``
    (the same counters, blocks and delays) and is audited as ``identity_check_failed``
    with ``purpose``; a blocked user is refused unchecked. Nothing else is recorded: the
    caller commits this outcome whatever it is, and acts only when confirmed.
    """
    now = now or utcnow()
    source = (source or "unknown")[:64]
    pair, by_source, by_name = _throttles(user.username, source)
    refusal = _refusal(pair, by_source, by_name, now)
    if refusal is not None:
        passwords.burn_verification_time(password)
        db.session.flush()
        record_event(
            "identity_check_refused_locked",
            "user",
            user.username,
            actor=user,
            field=purpose,
            new=f"from {source}",
        )
        return Confirmation(refusal)
    wrong_name = username is not None and normalise_username(username) != user.username
    if not wrong_name and user.active and passwords.verify_password(user.password_hash, password):
        _count_success(pair, user, password, now)
        db.session.flush()
        return Confirmation()
    if wrong_name:
        passwords.burn_verification_time(password)
    record_event(
        "identity_check_failed",
        "user",
        user.username,
        actor=user,
        field=purpose,
        new=f"from {source}",
        reason="wrong username" if wrong_name else "wrong password",
    )
    blocked = _count_failure(pair, by_source, by_name, user.username, source, now)
    if blocked is not None:
        return Confirmation(blocked)
    return Confirmation(WRONG_IDENTITY, "username" if wrong_name else "password")


def locked_until(username: str, *, now: datetime | None = None) -> datetime | None:
    """When the last block or delay on ``username`` ends (from any source), or None."""
    now = now or utcnow()
    return db.session.scalar(
        sa.select(sa.func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.username == normalise_username(username)[:80],
            LoginThrottle.locked_until > now,
        )
    )


def unlock(username: str, *, actor: User | None) -> None:
    """Lift every sign-in block and delay on ``username`` before it expires.

    :raises RuleViolation: the username is not blocked.
    :raises PermissionDenied: the actor may not manage this account; an unknown username
        can be unlocked by all-site managers only (others learn nothing about it).
    """
    name = normalise_username(username)[:80]
    user = get_user(name)
    if user is None:
        _require_manager(actor)
        _require_global_manager(actor)
    else:
        check_manage(actor, user)
    if locked_until(name) is None:
        raise RuleViolation("This username is not locked.")
    rows = db.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.username == name))
    for row in rows:
        row.locked_until = None
        row.failures = 0
    db.session.flush()
    record_event("unlocked", "user", name, actor=actor)


def record_logout(user: User, *, timed_out: bool = False) -> None:
    """Record a sign-out (or an idle time-out) and end every session of the user."""
    user.session_token = new_session_token()
    db.session.flush()
    record_event("session_timeout" if timed_out else "logout", "user", user.username, actor=user)


def visible_roles_for(actor: User) -> list[Role]:
    """Roles the actor may hand out."""
    roles = [r for r in Role if r is not Role.ADMIN or _is_admin(actor)]
    return roles if can(actor, Perm.MANAGE_USERS) else []
