"""The reports pages: what a reader may print or download, and the reports shown as pages."""

from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file
from flask_login import current_user, login_required

from ecrf.auth.permissions import can, require
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.reporting.plans import report_plan
from ecrf.reporting.safety import build_safety, safety_pdf, safety_plan
from ecrf.reporting.scope import report_sites, scoped_site_ids

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


# --- the safety report ----------------------------------------------------------------------


@bp.route("/safety")
@require(Perm.DOWNLOAD_REPORTS)
def safety():
    """The safety report as a page, for the reader's sites or the one asked (?site=)."""
    plan = safety_plan()
    site_code = request.args.get("site") or ""
    site_ids = scoped_site_ids(current_user, site_code)
    return render_template(
        "reporting/safety.html",
        report=build_safety(plan, site_ids, now=utcnow()),
        sites=report_sites(current_user),
        site_code=site_code.strip().upper(),
    )


@bp.route("/safety.pdf")
@require(Perm.DOWNLOAD_REPORTS)
def safety_download():
    """The safety report as an archival PDF (same scope as the page); the download is
    audited."""
    plan = safety_plan()
    site_ids = scoped_site_ids(current_user, request.args.get("site") or "")
    pdf = safety_pdf(plan, site_ids, actor=current_user)
    db.session.commit()
    return send_file(
        io.BytesIO(pdf.data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=pdf.filename,
    )
