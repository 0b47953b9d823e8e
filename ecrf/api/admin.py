"""Tokens on the user management page: create (the value shown once), revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, url_for
from flask_login import current_user

from ecrf import transaction
from ecrf.api import tokens
from ecrf.api.models import ApiToken
from ecrf.api.web_forms import TokenCreateForm
from ecrf.auth.models import User
from ecrf.auth.permissions import require
from ecrf.auth.roles import Perm
from ecrf.auth.views import _user_or_404, _user_page
from ecrf.db import utcnow
from ecrf.extensions import db

bp = Blueprint("api_tokens", __name__)

REVOKED = "Token revoked: scripts using it are refused from now on."
#: ``g`` key of a refused creation form, shown again with its errors on the user's page.
REFUSED_FORM = "token_form"


@bp.app_template_global()
def token_panel(user: User) -> dict:
    """What the user page's token section shows (the account page itself knows no tokens)."""
    return {
        "tokens": tokens.tokens_of(user),
        "form": g.get(REFUSED_FORM) or TokenCreateForm(prefix="token"),
        "now": utcnow(),
    }


@bp.post("/admin/users/<username>/tokens")
@require(Perm.MANAGE_USERS)
def create_token(username: str):
    """Create a token for the user and show its value, once."""
    user = _user_or_404(username)
    form = TokenCreateForm(prefix="token")
    actor = current_user._get_current_object()
    created: dict = {}

    def create() -> None:
        created["token"], created["value"] = tokens.create_token(
            user, form.name.data, days=form.days.data, actor=actor
        )

    if not transaction.submit(form, create):
        setattr(g, REFUSED_FORM, form)
        return _user_page(user, token=form)
    token, value = created["token"], created["value"]
    response = make_response(
        render_template("admin/token_created.html", user=user, token=token, value=value)
    )
    # The only time the value exists outside the script's secret store: keep it out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/admin/users/<username>/tokens/<int:token_id>/revoke")
@require(Perm.MANAGE_USERS)
def revoke_token(username: str, token_id: int):
    """Revoke one of the user's tokens."""
    user = _user_or_404(username)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    transaction.perform(
        lambda: tokens.revoke_token(token, actor=current_user._get_current_object())
    )
    flash(REVOKED, "success")
    return redirect(url_for("auth.show_user", username=user.username) + "#tokens")
