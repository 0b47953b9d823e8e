"""Sign-in, sign-out, own account, and user management pages.

Every POST is CSRF-checked by the app-wide CSRFProtect before it reaches a view.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ecrf import transaction
from ecrf.audit.models import AuditEvent
from ecrf.auth import services
from ecrf.auth.models import RoleAssignment, User
from ecrf.auth.permissions import can, can_everywhere, require, sites_with
from ecrf.auth.roles import Perm, Role
from ecrf.auth.sessions import EXPIRED_KEY, SEEN_KEY, safe_next
from ecrf.auth.web_forms import (
    ALL_SITES_CHOICE,
    DeactivateForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    RoleGrantForm,
    UserCreateForm,
    role_choices,
    site_choices,
)
from ecrf.errors import DomainError
from ecrf.extensions import db
from ecrf.records.sites import all_sites, get_site

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password."""
    expired_id = session.pop(EXPIRED_KEY, None)
    if expired_id is not None and (user := db.session.get(User, expired_id)) is not None:
        transaction.perform(lambda: services.record_logout(user, timed_out=True))
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        # Committed whatever the outcome: a failed attempt counts towards the lockout.
        result = transaction.perform(
            lambda: services.authenticate(
                form.username.data, form.password.data, request.remote_addr or "unknown"
            )
        )
        if result.user is not None:
            session.clear()
            login_user(result.user)
            session[SEEN_KEY] = time.time()
            landing = (
                url_for("study.list_subjects")
                if can(result.user, Perm.ENTER_DATA)
                else url_for("main.home")
            )
            return redirect(safe_next(request.args.get("next")) or landing)
        form.form_errors.append(result.message)
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    """Sign out and end every session of this account."""
    user = current_user._get_current_object()
    transaction.perform(lambda: services.record_logout(user))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Your roles, and a form to change your password."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            transaction.perform(
                lambda: services.change_own_password(
                    user, form.current_password.data, form.password.data
                )
            )
        except DomainError as exc:
            form.attach_error(exc.field, exc.message)
        else:
            login_user(current_user._get_current_object())  # the session token was rotated
            flash("Your password was changed. Other sessions were signed out.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), 422 if form.errors else 200


@bp.route("/admin/users")
@require(Perm.MANAGE_USERS)
def list_users():
    """The accounts the signed-in manager may manage, active or not, with their roles."""
    users = services.users_managed_by(current_user._get_current_object())
    locked = {u.username for u in users if services.locked_until(u.username)}
    return render_template("admin/users.html", users=users, locked=locked)


def _manageable_sites(user: User) -> tuple[list, bool]:
    site_ids = sites_with(user, Perm.MANAGE_USERS)
    sites = all_sites()
    if site_ids is not None:
        sites = [s for s in sites if s.id in site_ids]
    return sites, can_everywhere(user, Perm.MANAGE_USERS)


def _resolve_site(code: str):
    if code == ALL_SITES_CHOICE:
        return None
    site = get_site(code)
    if site is None:
        abort(404)
    return site


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require(Perm.MANAGE_USERS)
def create_user():
    """Create an account, optionally with its first role."""
    actor = current_user._get_current_object()
    sites, allow_all = _manageable_sites(actor)
    form = UserCreateForm()
    form.role.choices = role_choices(services.visible_roles_for(actor), optional=True)
    form.site.choices = site_choices(sites, allow_all=allow_all)
    if form.validate_on_submit():
        try:
            user = transaction.perform(
                lambda: services.create_user(
                    form.username.data,
                    form.full_name.data,
                    form.password.data,
                    email=form.email.data,
                    role=Role(form.role.data) if form.role.data else None,
                    site=_resolve_site(form.site.data) if form.role.data else None,
                    actor=actor,
                )
            )
        except DomainError as exc:
            form.attach_error(exc.field, exc.message)
        else:
            flash(f"Account {user.username} created.", "success")
            return redirect(url_for("auth.show_user", username=user.username))
    return render_template("admin/user_new.html", form=form), 422 if form.errors else 200


def _user_or_404(username: str) -> User:
    """The account, if the signed-in manager may manage it.

    An account out of the manager's scope answers 404 exactly like a missing one, so that
    nobody learns which usernames exist elsewhere.
    """
    user = services.get_user(username)
    if user is None or not services.can_manage(current_user._get_current_object(), user):
        abort(404)
    return user


def _user_page(user: User, **forms):
    actor = current_user._get_current_object()
    sites, allow_all = _manageable_sites(actor)
    grant = forms.get("grant") or RoleGrantForm(prefix="grant")
    grant.role.choices = role_choices(services.visible_roles_for(actor))
    grant.site.choices = site_choices(sites, allow_all=allow_all)
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity == "user", AuditEvent.entity_id == user.username)
        .order_by(AuditEvent.seq.desc())
        .limit(50)
    ).all()
    status = 422 if any(f.errors for f in forms.values()) else 200
    return render_template(
        "admin/user.html",
        user=user,
        grant=grant,
        reset=forms.get("reset") or PasswordResetForm(prefix="reset"),
        deactivate=forms.get("deactivate") or DeactivateForm(prefix="deactivate"),
        locked_until=services.locked_until(user.username),
        events=events,
        is_self=user.id == actor.id,
    ), status


@bp.route("/admin/users/<username>")
@require(Perm.MANAGE_USERS)
def show_user(username: str):
    """One account: roles, lockout, recent account events."""
    return _user_page(_user_or_404(username))


def _act_on_user(username: str, form, action, success: str, form_key: str):
    """Validate ``form`` and run ``action(user)`` as the transaction, then redirect; or
    re-show the page with the refusal at its field."""
    user = _user_or_404(username)
    if transaction.submit(form, lambda: action(user)):
        flash(success, "success")
        return redirect(url_for("auth.show_user", username=user.username))
    return _user_page(user, **{form_key: form})


@bp.post("/admin/users/<username>/roles")
@require(Perm.MANAGE_USERS)
def grant_role(username: str):
    """Give the user a role at a site or at all sites."""
    actor = current_user._get_current_object()
    sites, allow_all = _manageable_sites(actor)
    form = RoleGrantForm(prefix="grant")
    form.role.choices = role_choices(services.visible_roles_for(actor))
    form.site.choices = site_choices(sites, allow_all=allow_all)
    return _act_on_user(
        username,
        form,
        lambda user: services.grant_role(
            user, Role(form.role.data), _resolve_site(form.site.data), actor=actor
        ),
        "Role granted.",
        "grant",
    )


@bp.post("/admin/users/<username>/roles/<int:assignment_id>/revoke")
@require(Perm.MANAGE_USERS)
def revoke_role(username: str, assignment_id: int):
    """Take a role away."""
    user = _user_or_404(username)
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user.id:
        abort(404)
    actor = current_user._get_current_object()
    transaction.perform(lambda: services.revoke_role(assignment, actor=actor))
    flash("Role removed.", "success")
    return redirect(url_for("auth.show_user", username=user.username))


@bp.post("/admin/users/<username>/password")
@require(Perm.MANAGE_USERS)
def reset_password(username: str):
    """Set a new password for the user, who must change it at the next sign-in."""
    form = PasswordResetForm(prefix="reset")
    actor = current_user._get_current_object()
    return _act_on_user(
        username,
        form,
        lambda user: services.set_password(user, form.password.data, actor=actor),
        "Password set. The user's open sessions were ended.",
        "reset",
    )


@bp.post("/admin/users/<username>/deactivate")
@require(Perm.MANAGE_USERS)
def deactivate_user(username: str):
    """Deactivate the account for good (its username stays taken)."""
    form = DeactivateForm(prefix="deactivate")
    actor = current_user._get_current_object()
    return _act_on_user(
        username,
        form,
        lambda user: services.deactivate_user(user, actor=actor, reason=form.reason.data),
        "Account deactivated.",
        "deactivate",
    )


@bp.post("/admin/users/<username>/unlock")
@require(Perm.MANAGE_USERS)
def unlock_user(username: str):
    """Lift a sign-in lockout."""
    user = _user_or_404(username)
    actor = current_user._get_current_object()
    transaction.perform(lambda: services.unlock(user.username, actor=actor))
    flash("Sign-in unlocked.", "success")
    return redirect(url_for("auth.show_user", username=user.username))
