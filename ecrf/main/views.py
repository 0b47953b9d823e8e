"""Home page: who you are and what you can do."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from ecrf.auth.permissions import sites_with
from ecrf.auth.roles import Perm
from ecrf.records.sites import all_sites

bp = Blueprint("main", __name__)


def capabilities(user) -> list[tuple[str, str]]:
    """Each permission the user holds, with where it holds ("all sites" or site codes)."""
    codes = {s.id: s.code for s in all_sites()}
    result = []
    for perm in Perm:
        site_ids = sites_with(user, perm)
        if site_ids is None:
            result.append((perm.label, "all sites"))
        elif site_ids:
            result.append((perm.label, ", ".join(sorted(codes[i] for i in site_ids))))
    return result


@bp.route("/")
def home():
    """Who you are, your roles and what they let you do."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("main/home.html", capabilities=capabilities(current_user))


@bp.route("/healthz")
def health():
    """Liveness probe for load balancers; says nothing about the data."""
    return {"status": "ok"}
