"""The reports pages: what a reader may print or download, and the reports shown as pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ecrf.auth.permissions import can
from ecrf.auth.roles import Perm
from ecrf.reporting.plans import report_plan

bp = Blueprint("reporting", __name__, url_prefix="/reports")


@bp.route("/")
@login_required
def index():
    """The reports the signed-in user may get, with where each is found."""
    return render_template(
        "reporting/index.html",
        reads_reports=can(current_user, Perm.DOWNLOAD_REPORTS),
        plans={name: report_plan(name) is not None for name in ("IMAGING", "SAFETY")},
    )
