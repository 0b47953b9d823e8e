"""The jobs pages: start an extract, follow "My jobs", download a result."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user
from wtforms import SelectField

from ecrf import transaction
from ecrf.auth.permissions import require
from ecrf.auth.roles import Perm
from ecrf.jobs import services
from ecrf.jobs.backends import QueueUnavailable, submit
from ecrf.web_forms import BaseForm

bp = Blueprint("jobs", __name__)

STARTED = "The extract was started: it appears below, and its file when it is ready."
ALL_MY_SITES = "All my sites"


class StartForm(BaseForm):
    # Neither is limited to its list: a kind or a site kept from an old page, or forged,
    # reaches the service, which refuses it with its reason.
    kind = SelectField("Extract", choices=[], validate_choice=False)
    site = SelectField("Sites", choices=[], validate_choice=False)

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kinds = services.kinds_for(user)
        self.kind.choices = [(kind.name, kind.label) for kind in kinds]
        codes = sorted({site.code for kind in kinds for site in services.sites_for(user, kind)})
        self.site.choices = [("", ALL_MY_SITES), *((code, code) for code in codes)]


@bp.route("/jobs")
@require(Perm.EXPORT_DATA, Perm.DOWNLOAD_REPORTS)
def list_jobs():
    """My jobs: state, progress, download while kept; reloads itself while one runs."""
    transaction.perform(lambda: services.purge())
    jobs = services.jobs_of(current_user)
    active = any(job.state.active for job in jobs)
    refresh = current_app.config["JOBS_REFRESH_SECONDS"] if active else None
    return render_template("jobs/list.html", jobs=jobs, refresh=refresh, kinds=services.KINDS)


@bp.route("/jobs/new", methods=["GET", "POST"])
@require(Perm.EXPORT_DATA, Perm.DOWNLOAD_REPORTS)
def new_job():
    """Choose an extract and its sites, and start it in the background."""
    form = StartForm(current_user)
    started = []
    action = lambda: started.append(  # noqa: E731
        services.start_job(form.kind.data, form.site.data, actor=current_user).id
    )
    if transaction.submit(form, action):
        try:
            submit(started[0])
        except QueueUnavailable:
            services.mark_not_submitted(started[0])
            flash(services.QUEUE_DOWN, "error")
        else:
            flash(STARTED, "success")
        return redirect(url_for("jobs.list_jobs"))
    return render_template("jobs/new.html", form=form), (422 if form.errors else 200)


@bp.route("/jobs/<int:job_id>/download")
@require(Perm.EXPORT_DATA, Perm.DOWNLOAD_REPORTS)
def download(job_id: int):
    """The result file of one of my jobs (rights checked again; the download is audited)."""
    result = transaction.perform(lambda: services.open_result(job_id, actor=current_user))
    return send_file(result.path, as_attachment=True, download_name=result.name)
