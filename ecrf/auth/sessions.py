"""Who is signed in: the user loader, safe redirects and the idle time-out."""

from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy.orm import joinedload

from ecrf.auth.models import User
from ecrf.extensions import db, login_manager
from ecrf.resume.web import keep_posted_form

EXPIRED_KEY = "expired_user_id"
SEEN_KEY = "seen"
MUST_CHANGE_PASSWORD = (
    "Your password was set by someone else: choose a new password of your own before you continue."
)
#: What a user who must change their password may still open.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {"auth.account", "auth.logout", "static", "resume.keep_alive"}
)


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    return db.session.scalars(_signed_in_query(), {"token": session_token}).unique().one_or_none()


@functools.cache
def _signed_in_query() -> sa.Select:
    # With the roles: every page asks what its user may do (one statement, not two). Built
    # once: every request runs it, and a statement reused keeps its cache key.
    return (
        sa.select(User)
        .options(joinedload(User.roles))
        .where(User.session_token == sa.bindparam("token"), User.active.is_(True))
    )


def safe_next(target: str | None) -> str | None:
    """Only same-site paths may be redirected to after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def init_sessions(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def enforce_idle_timeout():
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = time.time()
        idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
        seen = session.get(SEEN_KEY)
        if seen is not None and now - seen > idle_limit:
            user_id = current_user.id
            logout_user()
            session.clear()
            # The sign-in page records the time-out in the audit trail.
            session[EXPIRED_KEY] = user_id
            flash(
                f"You were signed out after {current_app.config['SESSION_IDLE_MINUTES']} "
                "minutes without activity. Please sign in again.",
                "info",
            )
            kept = keep_posted_form(user_id)
            if kept is not None:
                return kept
            next_path = request.full_path if request.method == "GET" else None
            return redirect(url_for("auth.login", next=safe_next(next_path)))
        session[SEEN_KEY] = now
        session.permanent = True
        return None

    @app.before_request
    def enforce_password_change():
        # A password someone else chose is known to them: until its owner replaces it,
        # the account may do nothing but change it (or sign out).
        if request.endpoint in PASSWORD_CHANGE_ENDPOINTS or not current_user.is_authenticated:
            return None
        if not current_user.must_change_password:
            return None
        flash(MUST_CHANGE_PASSWORD, "warning")
        return redirect(url_for("auth.account"))
