"""The reports pages: what a reader may print or download, and the reports shown as pages."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from wtforms import SelectField

from ecrf import transaction
from ecrf.auth.permissions import can, require
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.jobs import services as jobs
from ecrf.jobs.backends import QueueUnavailable, submit
from ecrf.jobs.kinds import get_kind
from ecrf.records.loader import current_study
from ecrf.reporting.acrf_pdf import download_name, shared_acrf
from ecrf.reporting.imaging import ImagingReport, build_imaging_report
from ecrf.reporting.imaging_page import (
    file_name,
    imaging_context,
    imaging_pdf,
    render_body,
    web_page_context,
)
from ecrf.reporting.plans import report_plan
from ecrf.reporting.safety import build_safety, safety_pdf, safety_plan
from ecrf.reporting.scope import report_sites, scoped_site_ids
from ecrf.web_forms import BaseForm

bp = Blueprint("reporting", __name__, url_prefix="/reports")

CASEBOOK_STARTED = (
    "The casebook of {identifier} is being prepared: it appears on “My jobs”, ready to "
    "download in a moment."
)
COPY_STARTED = (
    "The investigator's copy is being prepared, one casebook after the other: follow it on "
    "“My jobs”, where the zip file can be downloaded once ready."
)
ALL_MY_SITES = "All my sites"


class CopyForm(BaseForm):
    # Not limited to its list: a forged site reaches the service, which refuses it.
    site = SelectField("Site", choices=[], validate_choice=False)

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kind = get_kind("casebooks")
        sites = jobs.sites_for(user, kind) if kind is not None else []
        self.site.choices = [(site.code, f"{site.code} — {site.name}") for site in sites]
        if len(sites) > 1:
            self.site.choices.insert(0, ("", ALL_MY_SITES))


@bp.route("/")
@login_required
def index():
    """The reports the signed-in user may get, with where each is found."""
    reads_reports = can(current_user, Perm.DOWNLOAD_REPORTS)
    return _index(CopyForm(current_user) if reads_reports else None)


def _index(copy_form: CopyForm | None, status: int = 200):
    return render_template(
        "reporting/index.html",
        reads_reports=copy_form is not None,
        copy_form=copy_form,
        plans={name: report_plan(name) is not None for name in ("IMAGING", "SAFETY")},
    ), status


@bp.post("/casebooks")
@require(Perm.DOWNLOAD_REPORTS)
def start_site_casebooks():
    """Start the investigator's copy of a site (every casebook, zipped) as a job."""
    form = CopyForm(current_user)
    started = []
    action = lambda: started.append(  # noqa: E731
        jobs.start_job("casebooks", form.site.data, actor=current_user).id
    )
    if transaction.submit(form, action):
        return _submitted(started[0], COPY_STARTED)
    return _index(form, 422)


@bp.post("/casebook/<identifier>")
@require(Perm.DOWNLOAD_REPORTS)
def start_casebook(identifier: str):
    """Start the casebook of one subject as a job (it takes seconds to render)."""
    job = transaction.perform(
        lambda: jobs.start_subject_job("casebook", identifier, actor=current_user)
    )
    return _submitted(job.id, CASEBOOK_STARTED.format(identifier=job.subject))


def _submitted(job_id: int, message: str):
    try:
        submit(job_id)
    except QueueUnavailable:
        jobs.mark_not_submitted(job_id)
        flash(jobs.QUEUE_DOWN, "error")
    else:
        flash(message, "success")
    return redirect(url_for("jobs.list_jobs"))


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
        report=build_safety(current_study(), plan, site_ids, now=utcnow()),
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
    study = current_study()
    pdf = transaction.perform(lambda: safety_pdf(study, plan, site_ids, actor=current_user))
    return send_file(
        io.BytesIO(pdf.data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=pdf.filename,
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
        current_study(),
        plan,
        actor=current_user,
        site_code=site,
        subject=request.args.get("subject"),
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
    pdf = transaction.perform(lambda: imaging_pdf(report, actor=current_user))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(report)}"'
    return response


# --- the blank annotated CRF ------------------------------------------------------------


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
