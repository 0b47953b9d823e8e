"""The reports pages: what a reader may print or download, and the reports shown as pages."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from ecrf.auth.permissions import can, require
from ecrf.auth.roles import Perm
from ecrf.extensions import db
from ecrf.reporting.imaging import ImagingReport, build_imaging_report
from ecrf.reporting.imaging_page import (
    file_name,
    imaging_context,
    imaging_pdf,
    render_body,
    web_page_context,
)
from ecrf.reporting.plans import report_plan
from ecrf.reporting.scope import report_sites

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


# --- imaging report ----------------------------------------------------------------------------


def _imaging_report() -> tuple[ImagingReport, dict[str, str]]:
    """The imaging report the query asks for (``site``, ``subject``) within the reader's
    sites, and those filters as understood; 404 when the study declares no imaging report."""
    plan = report_plan("IMAGING")
    if plan is None:
        abort(404)
    site = (request.args.get("site") or "").strip().upper()
    report = build_imaging_report(
        plan, actor=current_user, site_code=site, subject=request.args.get("subject")
    )
    filters = {"site": site, "subject": report.subject or ""}
    return report, {name: value for name, value in filters.items() if value}


@bp.route("/imaging")
@require(Perm.DOWNLOAD_REPORTS)
def imaging():
    """The imaging report as a page: study summary, paired plot, each subject's lesions."""
    report, filters = _imaging_report()
    context = imaging_context(report, page=web_page_context(report, actor=current_user))
    return render_template(
        "reporting/imaging.html",
        body=render_body(context),
        context=context,
        filters=filters,
        sites=report_sites(current_user),
    )


@bp.route("/imaging.pdf")
@require(Perm.DOWNLOAD_REPORTS)
def imaging_download():
    """The imaging report as an archival PDF (the download is audited)."""
    report, _ = _imaging_report()
    pdf = imaging_pdf(report, actor=current_user)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(report)}"'
    return response
