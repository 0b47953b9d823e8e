"""The reports pages: what a reader may print or download, and the reports shown as pages."""

from __future__ import annotations

from flask import Blueprint, render_template, send_file
from flask_login import current_user, login_required

from ecrf.auth.permissions import can
from ecrf.auth.roles import Perm
from ecrf.crf.loader import current_study
from ecrf.reporting.acrf_pdf import download_name, shared_acrf
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


@bp.route("/acrf.pdf")
@login_required
def download_acrf():
    """The blank annotated CRF; it holds no clinical data, so every signed-in user gets it.

    Rendered once per definition in the background: until it is there, a page says so and
    reloads itself, and the download then starts.
    """
    study = current_study()
    shared = shared_acrf(study)
    if shared.ready:
        return send_file(
            shared.path,
            mimetype="application/pdf",
            as_attachment=True,
            download_name=download_name(study),
        )
    status = 503 if shared.failed else 200
    return render_template(
        "reporting/acrf_wait.html", failed=shared.failed, version=study.version
    ), status
