"""Site pages: the sites a user works at, and their administration."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ecrf import transaction
from ecrf.auth.permissions import can, require, require_permission
from ecrf.auth.roles import Perm
from ecrf.converters import bounded_int
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.locks.listing import LockMarks
from ecrf.locks.services import site_lock
from ecrf.queries.listing import QUERY_PERMS, target_words
from ecrf.records.loader import current_study
from ecrf.records.models import INVESTIGATOR_DECISIONS, SUBJECT_TRANSITIONS, SubjectStatus
from ecrf.records.sites import all_sites, get_site
from ecrf.sdv.display import subject_verification
from ecrf.signatures import pages as signature_pages
from ecrf.study import gates, overview, services, subjects
from ecrf.study.eligibility import assess, open_questions
from ecrf.web_forms import BaseForm

bp = Blueprint("study", __name__)


class SiteForm(BaseForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Give the site's code."), Length(max=8)],
        description="2 to 8 capital letters or digits; it prefixes subject numbers.",
    )
    name = StringField("Name", validators=[DataRequired("Give the site's name."), Length(max=200)])


@bp.route("/sites/")
@require(Perm.VIEW_SUBJECTS)
def list_sites():
    """The sites whose subjects you may see."""
    sites = services.sites_visible_to(current_user)
    return render_template("study/sites.html", sites=sites)


@bp.route("/sites/<code>")
@require(Perm.VIEW_SUBJECTS)
def show_site(code: str):
    """One site's page: its team and (with the capture engine) its subjects."""
    site = get_site(code)
    if site is None:
        abort(404)
    require_permission(current_user, Perm.VIEW_SUBJECTS, site.id)
    team = services.site_team(site)
    return render_template("study/site.html", site=site, team=team, lock=site_lock(site.id))


@bp.route("/admin/sites", methods=["GET", "POST"])
@require(Perm.MANAGE_SITES)
def manage_sites():
    """List the sites and add one."""
    form = SiteForm()
    if transaction.submit(
        form, lambda: services.add_site(form.code.data, form.name.data, actor=current_user)
    ):
        flash(f"Site {form.code.data.upper()} added.", "success")
        return redirect(url_for("study.manage_sites"))
    sites = all_sites()
    return render_template("study/admin_sites.html", sites=sites, form=form), (
        422 if form.errors else 200
    )


# --- subjects -------------------------------------------------------------------------------


class RegisterForm(BaseForm):
    site = SelectField("Site", choices=[], validate_choice=True)


class StatusForm(BaseForm):
    status = SelectField(
        "New status",
        choices=[],
        validate_choice=True,
        validators=[DataRequired("Choose the new status.")],
    )
    reason = TextAreaField(
        "Reason", validators=[DataRequired("Give the reason."), Length(max=1000)]
    )


class VisitDateForm(BaseForm):
    visit_date = StringField("Visit date", render_kw={"placeholder": "YYYY-MM-DD"})
    deviation_reason = TextAreaField("Reason for the deviation", validators=[Length(max=1000)])
    reason = TextAreaField("Reason for change", validators=[Length(max=1000)])


def status_choices(subject, user) -> list[tuple[str, str]]:
    """The statuses the subject may move to and ``user`` may decide, in protocol order,
    after a blank to choose."""
    allowed = [
        s
        for s in SubjectStatus
        if s in SUBJECT_TRANSITIONS[subject.status]
        and can(user, subjects.status_permission(s), subject.site_id)
    ]
    return [("", "— choose —")] + [(s.value, s.label) for s in allowed] if allowed else []


def investigator_decisions(subject, user) -> list[str]:
    """The next statuses only the investigator may decide, when ``user`` may not."""
    return [
        s.label.lower()
        for s in SubjectStatus
        if s in SUBJECT_TRANSITIONS[subject.status]
        and s in INVESTIGATOR_DECISIONS
        and not can(user, subjects.status_permission(s), subject.site_id)
    ]


def subject_or_404(identifier: str):
    subject = subjects.get_subject(identifier)
    # Another site's subject answers like a missing one: nobody learns what exists elsewhere.
    if subject is None or not can(current_user, Perm.VIEW_SUBJECTS, subject.site_id):
        abort(404)
    return subject


@bp.route("/subjects", methods=["GET", "POST"])
@require(Perm.VIEW_SUBJECTS)
def list_subjects():
    """The subject matrix: subjects × visits, with each visit's state; register a subject."""
    study = current_study()
    register = RegisterForm()
    entry_sites = services.sites_visible_to(current_user, Perm.ENTER_DATA)
    register.site.choices = [(s.code, f"{s.code} — {s.name}") for s in entry_sites]
    if register.validate_on_submit():
        site = get_site(register.site.data)
        subject = transaction.perform(lambda: subjects.register_subject(site, actor=current_user))
        flash(f"Subject {subject.identifier} registered (screening).", "success")
        return redirect(url_for("study.show_subject", identifier=subject.identifier))
    site_code = request.args.get("site") or None
    status = request.args.get("status") or None
    try:
        status_filter = SubjectStatus(status) if status else None
    except ValueError:
        abort(404)
    number = bounded_int(request.args.get("page") or "1")
    if not number:  # page 0, negative, junk or beyond any column: a page that cannot exist
        abort(404)
    page = db.paginate(
        subjects.visible_subjects_query(current_user, site_code=site_code, status=status_filter),
        page=number,
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "study/subjects.html",
        rows=overview.matrix(study, list(page.items)),
        columns=overview.matrix_columns(study),
        page=page,
        register=register,
        sites=services.sites_visible_to(current_user),
        statuses=list(SubjectStatus),
        site_code=site_code,
        status=status,
        locks=LockMarks(page.items),
    )


@bp.route("/subjects/<identifier>")
@require(Perm.VIEW_SUBJECTS)
def show_subject(identifier: str):
    """One subject: schedule with due dates and windows, forms, open findings."""
    subject = subject_or_404(identifier)
    study = current_study()
    return subject_page(study, subject)


def subject_page(study, subject, status_form=None, date_forms=None, status=200):
    status_form = status_form or StatusForm(prefix="status")
    status_form.status.choices = status_choices(subject, current_user)
    view = overview.subject_overview(study, subject)
    locks = LockMarks([subject])
    return render_template(
        "study/subject.html",
        subject=subject,
        study=study,
        view=view,
        eligibility=assess(study, view.data) if study.study.eligibility else None,
        eligibility_questions=open_questions(study, view.findings),
        status_form=status_form,
        date_forms=date_forms or {},
        date_form=VisitDateForm,
        can_enter=can(current_user, Perm.ENTER_DATA, subject.site_id)
        and locks.subject(subject) is None,
        locks=locks,
        can_report=can(current_user, Perm.DOWNLOAD_REPORTS, subject.site_id),
        can_raise=can(current_user, Perm.RAISE_QUERY, subject.site_id),
        queries=[(q, target_words(study, q)) for q in view.queries]
        if any(can(current_user, p, subject.site_id) for p in QUERY_PERMS)
        else [],
        decisions=investigator_decisions(subject, current_user),
        gate_notice=gates.subject_notice(study, subject, view.data),
        awaiting_consent=gates.awaiting_consent(study, view.data),
        today=utcnow().date(),
        signature_lines=signature_pages.scope_lines(study, subject, current_user),
        sdv=subject_verification(study, subject, current_user),
    ), status


@bp.post("/subjects/<identifier>/status")
@require(Perm.ENTER_DATA)
def change_subject_status(identifier: str):
    """Move the subject to another status, with a reason."""
    subject = subject_or_404(identifier)
    study = current_study()
    form = StatusForm(prefix="status")
    form.status.choices = status_choices(subject, current_user)

    def change() -> None:
        status = SubjectStatus(form.status.data)
        subjects.change_status(study, subject, status, actor=current_user, reason=form.reason.data)

    if transaction.submit(form, change):
        flash(f"{subject.identifier} is now {subject.status.label.lower()}.", "success")
        return redirect(url_for("study.show_subject", identifier=subject.identifier))
    return subject_page(study, subject, status_form=form, status=422)
