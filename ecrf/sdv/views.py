"""Source verification pages: verify an item, a row, a form (from the form's page) or a
visit (from the subject's page); the progress against the plan per site and per subject,
where data managers set a site's own share of subjects to verify."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from ecrf import transaction
from ecrf.auth.permissions import can, require, sites_with
from ecrf.auth.roles import Perm
from ecrf.converters import bounded_int
from ecrf.errors import NotFound, RuleViolation
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Site, Subject
from ecrf.sdv import progress, services
from ecrf.web_forms import BaseForm
from forms.language import VisitKind

bp = Blueprint("sdv", __name__)

VISIT_URL = "/subjects/<identifier>/visits/<visit_oid>/<int:repeat>"
#: Flash messages, by how many values a verification recorded.
VERIFIED = {1: "1 value verified against the source.", "many": "{count} values verified."}
NOT_VERIFIED = "Nothing verified: {message}"
PLAN_SAVED = "The plan of {site} is saved."
#: Who sees the progress: monitors and those who set the plan.
PROGRESS_PERMS = (Perm.VERIFY_SOURCE, Perm.PLAN_VERIFICATION)


class PlanForm(BaseForm):
    percentage = StringField(
        "Share of subjects whose other forms are verified (%)",
        validators=[Length(max=3)],
        description="Empty: the definition's share. The critical forms stay at 100 %.",
    )
    reason = TextAreaField("Reason", validators=[Length(max=services.MAX_REASON)])


def _subject_or_404(identifier: str, visit_oid: str, repeat: int) -> Subject:
    subject = db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier))
    visit_def = current_study().visits.get(visit_oid)
    # Another site's subject answers like a missing one.
    if (
        subject is None
        or not can(current_user, Perm.VIEW_SUBJECTS, subject.site_id)
        or visit_def is None
        or (visit_def.kind is not VisitKind.UNSCHEDULED and repeat != 1)
    ):
        abort(404)
    return subject


def _verify(subject: Subject, target: services.SdvTarget) -> None:
    try:
        made = transaction.perform(
            lambda: services.verify(current_study(), subject, target, actor=current_user)
        )
    except NotFound:
        abort(404)
    except RuleViolation as exc:
        flash(NOT_VERIFIED.format(message=exc.message), "error")
        return
    count = len(made)
    flash(VERIFIED[1] if count == 1 else VERIFIED["many"].format(count=count), "success")


def _form_target(visit_oid: str, repeat: int, form_oid: str) -> services.SdvTarget:
    """The form, or a row of it ("GROUP.KEY"), or an item ("GROUP.KEY.ITEM")."""
    parts = (request.form.get("target") or "").split(".")
    if parts == [""]:
        return services.SdvTarget(visit_oid, repeat, form_oid)
    key = bounded_int(parts[1]) if len(parts) in (2, 3) else None
    if not key or not parts[0] or (len(parts) == 3 and not parts[2]):
        abort(404)
    item = parts[2] if len(parts) == 3 else None
    return services.SdvTarget(visit_oid, repeat, form_oid, parts[0], key, item)


@bp.post(VISIT_URL + "/forms/<form_oid>/verify")
@require(Perm.VERIFY_SOURCE)
def verify_form(identifier: str, visit_oid: str, repeat: int, form_oid: str):
    """Verify an item, a row or the whole form against the source."""
    subject = _subject_or_404(identifier, visit_oid, repeat)
    target = _form_target(visit_oid, repeat, form_oid)
    _verify(subject, target)
    anchor = f"group-{target.group_oid}" if target.group_oid else "sdv"
    return redirect(
        url_for(
            "crf.edit_entry",
            identifier=identifier,
            visit_oid=visit_oid,
            repeat=repeat,
            form_oid=form_oid,
            _anchor=anchor,
        )
    )


@bp.post(VISIT_URL + "/verify")
@require(Perm.VERIFY_SOURCE)
def verify_visit(identifier: str, visit_oid: str, repeat: int):
    """Verify every value of a visit against the source."""
    subject = _subject_or_404(identifier, visit_oid, repeat)
    _verify(subject, services.SdvTarget(visit_oid, repeat))
    return redirect(
        url_for("study.show_subject", identifier=identifier, _anchor=f"visit-{visit_oid}-{repeat}")
    )


def _visible_sites() -> list[Site]:
    ids: set[int] | None = set()
    for perm in PROGRESS_PERMS:
        found = sites_with(current_user, perm)
        if found is None:
            ids = None
            break
        ids |= found
    query = sa.select(Site).order_by(Site.code)
    if ids is not None:
        query = query.where(Site.id.in_(ids))
    return list(db.session.scalars(query))


def _progress_page(plan_form: PlanForm | None = None, status: int = 200):
    study = current_study()
    sites = _visible_sites()
    code = request.args.get("site") or (request.view_args or {}).get("code")
    chosen = next((s for s in sites if s.code == code), None)
    if code and chosen is None:
        abort(404)
    per_site, per_subject = progress.overview(study, [chosen] if chosen else sites)
    can_plan = chosen is not None and can(current_user, Perm.PLAN_VERIFICATION, chosen.id)
    if can_plan and plan_form is None:
        own = per_site[0].own
        plan_form = PlanForm(formdata=None, percentage=str(own.percentage) if own else "")
    return render_template(
        "sdv/progress.html",
        study=study,
        sites=sites,
        chosen=chosen,
        per_site=per_site,
        per_subject=per_subject,
        plan_form=plan_form if can_plan else None,
    ), status


@bp.route("/sdv")
@require(*PROGRESS_PERMS)
def show_progress():
    """SDV progress against the plan, per site and per subject; filterable by site."""
    return _progress_page()


@bp.post("/sdv/sites/<code>/plan")
@require(Perm.PLAN_VERIFICATION)
def set_site_plan(code: str):
    """A data manager sets the site's own share of subjects to verify, with a reason."""
    site = next((s for s in _visible_sites() if s.code == code), None)
    if site is None:
        abort(404)
    form = PlanForm()

    def save() -> None:
        services.set_site_plan(
            current_study(), site, form.percentage.data, form.reason.data, actor=current_user
        )

    if transaction.submit(form, save):
        flash(PLAN_SAVED.format(site=site.code), "success")
        return redirect(url_for("sdv.show_progress", site=site.code))
    return _progress_page(form, 422)
